"""The staff's reading pages: their courses, the gradebook, an assignment, a submission."""

from __future__ import annotations

from flask import Response, abort, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup, escape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grader.feedback import describe_training
from grader.messages import GradeReport as ReportDoc
from grader.messages import ta_flags
from web import training_figure
from web.access import STAFF_ROLES, staff_view
from web.database import db
from web.grades import standings, version_ids
from web.staff import bp
from web.staff.code import highlighted, read_files
from web.staff.gradebook import (
    FILTERS,
    Cell,
    Column,
    Row,
    build_gradebook,
    select_rows,
    sort_rows,
)
from web.staff.overrides import audit_log
from web.staff.queries import (
    STATUSES,
    SubmissionFilter,
    assignment_or_404,
    assignment_submissions,
    reports_of,
    runs_of,
    submission_or_404,
)
from web.staff.regrade import batch_progress
from worker.models import Course, Enrollment, GradeRun, Submission


@bp.route("/")
@login_required
def courses() -> str:
    rows = db().execute(
        select(Course, Enrollment.role)
        .join(Enrollment, Enrollment.course_id == Course.id)
        .where(Enrollment.user_id == current_user.id, Enrollment.role.in_(STAFF_ROLES))
        .order_by(Course.slug)
    )
    return render_template("staff/courses.html", courses=rows.all())


@bp.route("/courses/<int:course_id>/")
@staff_view
def gradebook(course_id: int) -> str:
    s = db()
    book = build_gradebook(s, course_id)
    slugs = {c.slug for c in book.columns}
    sort = request.args.get("sort", "name")
    sort = sort if sort in slugs | {"name", "total"} else "name"
    descending = request.args.get("dir") == "desc"
    only = request.args.get("only", "")
    only = only if only in FILTERS else ""
    within = request.args.get("in", "")
    within = within if within in slugs else ""
    query = request.args.get("q", "")[:120]
    rows = sort_rows(select_rows(book, query, only, within), sort, descending)
    # One url_for (and one escape) for 3,000 cells: the prefix, each cell appends its id.
    link = str(escape(url_for("staff.submission", course_id=course_id, submission_id=0)[:-1]))
    return render_template(
        "staff/gradebook.html",
        course=s.get(Course, course_id),
        book=book,
        rows=[row_markup(row, book.columns, link) for row in rows],
        sort=sort,
        descending=descending,
        only=only,
        within=within,
        query=query,
        filters=FILTERS,
    )


_LATE = '<span class="mark late" title="late: penalty {}%">L</span>'
_OVERRIDDEN = '<span class="mark over" title="overridden by staff">O</span>'
_PENDING = '<span class="mark pending" title="grading in progress">…</span>'
_MISSING = '<span class="muted">—</span>'


def row_markup(row: Row, columns: list[Column], submission_url: str) -> Markup:
    """A gradebook row: the student, a cell per assignment, the total.

    Written here rather than in the template: a class's page has 300 rows of 10 cells,
    and the template's per-cell loop, tests, filters and escaping were a third of the
    request. The student's name and email come from people and are escaped here.
    """
    email = f' <span class="muted">{escape(row.email)}</span>' if row.email else ""
    cells = "".join(
        f'<td class="num">{cell_markup(row.cells[c.slug], submission_url)}</td>' for c in columns
    )
    # round(2) and %g, as the template wrote the total.
    total = f"{round(row.total, 2):g}"
    return Markup(
        f'<tr><td class="student">{escape(row.name)}{email}</td>{cells}'
        f'<td class="num total">{total}</td></tr>'
    )


def cell_markup(cell: Cell, submission_url: str) -> str:
    """A gradebook cell's content: its score linked to the submission that counts, its marks.

    Nothing in a cell comes from a person (ids, numbers, fixed marks);
    ``submission_url``, the submission pages' address less the id, comes HTML-escaped
    from the caller.
    """
    counted = cell.counted
    if counted is None or counted.score is None:  # (a submission that counts has a score)
        html = _MISSING
    else:
        score = round(counted.score, 2)
        html = f'<a href="{submission_url}{counted.submission_id}">{score:g}</a>'
        if counted.late:
            # Whole percents, truncated (0.29 reads 28%, as the page always said).
            html += _LATE.format(int(counted.late_penalty * 100))
        if counted.override is not None:
            html += _OVERRIDDEN
    if cell.pending:
        html += _PENDING
    return html


@bp.route("/courses/<int:course_id>/assignments/<slug>/")
@staff_view
def assignment(course_id: int, slug: str) -> str:
    s = db()
    a = assignment_or_404(s, course_id, slug)
    f = SubmissionFilter.from_args(request.args)
    listed = assignment_submissions(s, course_id, slug, f)
    progress = [batch_progress(s, b) for b in _recent_batches(s, course_id, slug)]
    # What "Regrade all" would queue (every submission of every version), asked first.
    regradable = s.scalar(
        select(func.count())
        .select_from(Submission)
        .where(Submission.assignment_id.in_(version_ids(s, course_id, slug)))
    )
    return render_template(
        "staff/assignment.html",
        course=s.get(Course, course_id),
        assignment=a,
        listed=listed[:500],
        total=len(listed),
        f=f,
        statuses=STATUSES,
        progress=progress,
        regradable=int(regradable or 0),
    )


@bp.route("/courses/<int:course_id>/assignments/<slug>/batches/<batch>.json")
@staff_view
def batch_json(course_id: int, slug: str, batch: str) -> dict[str, object]:
    """A regrade batch's progress (polled by batch.js), if it is one of this assignment's."""
    s = db()
    assignment_or_404(s, course_id, slug)
    if batch not in _recent_batches(s, course_id, slug, limit=1000):
        abort(404)
    p = batch_progress(s, batch)
    return {
        "batch": p.batch,
        "total": p.total,
        "queued": p.queued,
        "running": p.running,
        "done": p.done,
        "error": p.error,
        "finished": p.finished,
        "complete": p.complete,
    }


def _recent_batches(s: Session, course_id: int, slug: str, limit: int = 3) -> list[str]:
    """The assignment's last few regrade batches, newest first."""
    rows = s.execute(
        select(GradeRun.batch, GradeRun.id)
        .join(Submission, Submission.id == GradeRun.submission_id)
        .where(
            GradeRun.batch.is_not(None),
            Submission.assignment_id.in_(version_ids(s, course_id, slug)),
        )
        .order_by(GradeRun.id.desc())
    ).all()
    seen: list[str] = []
    for batch, _ in rows:
        if batch not in seen:
            seen.append(batch)
    return seen[:limit]


@bp.route("/courses/<int:course_id>/submissions/<int:submission_id>")
@staff_view
def submission(course_id: int, submission_id: int) -> str:
    s = db()
    sub, student = submission_or_404(s, course_id, submission_id)
    (standing,) = standings(s, [sub])
    reports = reports_of(s, sub.id)
    chosen = reports[0] if reports else None
    wanted = request.args.get("report", type=int)
    for entry in reports:
        if entry[0].id == wanted:
            chosen = entry
    doc = ReportDoc.from_dict(chosen[0].report) if chosen else None
    trainings = [
        (c, describe_training(c.training)) for c in (doc.checks if doc else ()) if c.training
    ]
    files, files_note = read_files(db(), sub.sha256, sub.filename)
    return render_template(
        "staff/submission.html",
        course=s.get(Course, course_id),
        assignment=sub.assignment,
        sub=sub,
        student=student,
        standing=standing,
        reports=reports,
        chosen=chosen,
        doc=doc,
        runs=runs_of(s, sub.id),
        files=[(f, highlighted(f)) for f in files],
        files_note=files_note,
        audit=audit_log(s, sub.id),
        flags=ta_flags(chosen[0].report.get("checks", [])) if chosen else [],
        trainings=trainings,
    )


@bp.route("/courses/<int:course_id>/submissions/<int:submission_id>/training/<check>.svg")
@staff_view
def training_picture(course_id: int, submission_id: int, check: str) -> Response:
    """A training check's runs drawn from the report ``?report=`` (default the newest)."""
    s = db()
    sub, _ = submission_or_404(s, course_id, submission_id)
    reports = reports_of(s, sub.id)
    wanted = request.args.get("report", type=int)
    chosen = next((r for r, _, _ in reports if wanted is None or r.id == wanted), None)
    doc = ReportDoc.from_dict(chosen.report) if chosen is not None else None
    return training_figure.picture(doc.checks if doc else (), check)
