"""Staff pages computed over a whole class: exports, analytics, the similarity report."""

from __future__ import annotations

import tempfile
import threading
from collections import OrderedDict
from typing import Any

from flask import Response, abort, render_template, send_file
from sqlalchemy import select
from sqlalchemy.orm import Session

from web.access import staff_view
from web.database import db
from web.grades import version_ids
from web.staff import analytics, bp
from web.staff.code import highlighted, read_files, stylesheet
from web.staff.export import Upload, canvas_csv, safe_name, write_submissions_zip
from web.staff.gradebook import Gradebook, build_gradebook
from web.staff.queries import assignment_or_404, starter_files
from web.staff.similarity import Pair, rank_pairs
from worker.models import Assignment, Course, GradeReport, Submission, User


def _download(data: bytes | str, mimetype: str, filename: str) -> Response:
    return Response(
        data,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{safe_name(filename)}"',
            "Cache-Control": "no-store",
        },
    )


@bp.route("/courses/<int:course_id>/gradebook.csv")
@staff_view
def gradebook_csv(course_id: int) -> Response:
    s = db()
    course = s.get(Course, course_id)
    book = build_gradebook(s, course_id)
    text = canvas_csv(book, sorted(book.rows, key=lambda r: r.name.lower()), course.slug)
    return _download(text, "text/csv", f"{course.slug}-gradebook.csv")


@bp.route("/courses/<int:course_id>/assignments/<slug>/submissions.zip")
@staff_view
def submissions_download(course_id: int, slug: str) -> Response:
    s = db()
    assignment_or_404(s, course_id, slug)
    book = build_gradebook(s, course_id)
    scores = {
        c.counted.submission_id: c.score
        for r in book.rows
        if (c := r.cells.get(slug)) and c.counted
    }
    rows = s.execute(
        select(Submission, User.name)
        .join(User, User.id == Submission.user_id)
        .where(Submission.assignment_id.in_(version_ids(s, course_id, slug)))
        .order_by(User.name, Submission.id)
    ).all()
    uploads = [
        Upload(
            sub.id, name, sub.filename, sub.sha256, sub.submitted_at, sub.late, scores.get(sub.id)
        )
        for sub, name in rows
    ]
    # On disk past 32 MiB; the response closes (and so deletes) it once sent.
    out = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)  # noqa: SIM115  (see above)
    write_submissions_zip(out, db(), slug, uploads)
    out.seek(0)
    answer = send_file(
        out,
        mimetype="application/zip",
        as_attachment=True,
        download_name=safe_name(f"{slug}-submissions.zip"),
    )
    answer.headers["Cache-Control"] = "no-store"
    return answer


# -- analytics -------------------------------------------------------------------------


def _counted(book: Gradebook, slug: str) -> dict[int, float | None]:
    """Submission id -> score of each student's submission that counts."""
    return {
        c.counted.submission_id: c.score
        for r in book.rows
        if (c := r.cells.get(slug)) is not None and c.counted is not None
    }


def _counted_reports(s: Session, submission_ids: list[int]) -> list[dict[str, Any]]:
    newest: dict[int, tuple[int, dict[str, Any]]] = {}
    for rid, sid, doc in s.execute(
        select(GradeReport.id, GradeReport.submission_id, GradeReport.report).where(
            GradeReport.submission_id.in_(submission_ids)
        )
    ):
        if sid not in newest or rid > newest[sid][0]:
            newest[sid] = (rid, doc)
    return [doc for _, doc in newest.values()]


def _class_data(course_id: int, slug: str) -> tuple[Assignment, Gradebook, dict[int, float | None]]:
    s = db()
    a = assignment_or_404(s, course_id, slug)
    book = build_gradebook(s, course_id)
    return a, book, _counted(book, slug)


@bp.route("/courses/<int:course_id>/assignments/<slug>/analytics")
@staff_view
def analytics_page(course_id: int, slug: str) -> str:
    a, book, counted = _class_data(course_id, slug)
    s = db()
    failures = analytics.check_failures(_counted_reports(s, list(counted)))
    scores = [v for v in counted.values() if v is not None]
    return render_template(
        "staff/analytics.html",
        course=s.get(Course, course_id),
        assignment=a,
        failures=failures,
        students=len(book.rows),
        graded=len(scores),
        mean=sum(scores) / len(scores) if scores else None,
    )


@bp.route("/courses/<int:course_id>/assignments/<slug>/analytics/<picture>.svg")
@staff_view
def analytics_svg(course_id: int, slug: str, picture: str) -> Response:
    a, _, counted = _class_data(course_id, slug)
    s = db()
    if picture == "histogram":
        svg = analytics.histogram_svg([v for v in counted.values() if v is not None], a.max_score)
    elif picture == "failures":
        svg = analytics.failure_rate_svg(
            analytics.check_failures(_counted_reports(s, list(counted)))
        )
    elif picture == "timeline":
        times = s.scalars(
            select(Submission.submitted_at).where(
                Submission.assignment_id.in_(version_ids(s, course_id, slug))
            )
        ).all()
        svg = analytics.submissions_over_time_svg(list(times), a.due)
    else:
        abort(404)
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "no-store"})


@bp.route("/code.css")
def code_css() -> Response:
    return Response(stylesheet(), mimetype="text/css", headers={"Cache-Control": "max-age=3600"})


# -- similarity ------------------------------------------------------------------------

# Comparing a class takes seconds; the same set of submissions gives the same pairs.
_CACHE: OrderedDict[tuple[Any, ...], list[Pair]] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 8


def _pairs_for(course_id: int, slug: str) -> tuple[Assignment, dict[int, str], list[Pair]]:
    """The ranked pairs among each student's submission that counts (else their latest)."""
    s = db()
    a, book, _ = _class_data(course_id, slug)
    chosen: dict[int, str] = {}  # submission id -> student
    latest = dict(
        s.execute(
            select(Submission.user_id, Submission.id)
            .where(Submission.assignment_id.in_(version_ids(s, course_id, slug)))
            .order_by(Submission.id)
        ).all()
    )
    for row in book.rows:
        cell = row.cells.get(slug)
        sub_id = cell.counted.submission_id if cell and cell.counted else latest.get(row.user_id)
        if sub_id is not None:
            chosen[sub_id] = row.name
    subs = s.scalars(select(Submission).where(Submission.id.in_(list(chosen)))).all()
    key = (a.id, a.manifest_hash, tuple(sorted((x.id, x.sha256) for x in subs)))
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return a, chosen, _CACHE[key]
    sources = {}
    for sub in subs:
        files, _ = read_files(s, sub.sha256, sub.filename)
        sources[str(sub.id)] = {f.name: f.text for f in files if f.text is not None}
    pairs = rank_pairs(sources, starter_files(a), limit=100)
    with _CACHE_LOCK:
        _CACHE[key] = pairs
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return a, chosen, pairs


@bp.route("/courses/<int:course_id>/assignments/<slug>/similarity")
@staff_view
def similarity(course_id: int, slug: str) -> str:
    a, chosen, pairs = _pairs_for(course_id, slug)
    return render_template(
        "staff/similarity.html",
        course=db().get(Course, course_id),
        assignment=a,
        pairs=pairs,
        names={str(k): v for k, v in chosen.items()},
        compared=len(chosen),
    )


@bp.route("/courses/<int:course_id>/assignments/<slug>/similarity/<int:a_id>-<int:b_id>")
@staff_view
def similarity_pair(course_id: int, slug: str, a_id: int, b_id: int) -> str:
    a, chosen, pairs = _pairs_for(course_id, slug)
    pair = next((p for p in pairs if {p.a, p.b} == {str(a_id), str(b_id)}), None)
    if pair is None:
        abort(404)
    s = db()
    sides = []
    for key, which in ((pair.a, "a"), (pair.b, "b")):
        sub = s.get(Submission, int(key))
        files, note = read_files(db(), sub.sha256, sub.filename)
        shown = []
        for f in files:
            marked: set[int] = set()
            for frag in pair.fragments:
                name, lo, hi = (
                    (frag.file_a, frag.a_start, frag.a_end)
                    if which == "a"
                    else (frag.file_b, frag.b_start, frag.b_end)
                )
                if name == f.name:
                    marked |= set(range(lo, hi + 1))
            shown.append((f, highlighted(f, tuple(sorted(marked)))))
        sides.append({"sub": sub, "student": chosen.get(sub.id, "?"), "files": shown, "note": note})
    return render_template(
        "staff/similarity_pair.html",
        course=s.get(Course, course_id),
        assignment=a,
        pair=pair,
        sides=sides,
    )
