"""What the staff pages read, always scoped to the course in the URL.

Every lookup by id joins through ``Assignment.course_id``: a submission of
another course is simply not found (404), whatever id is typed.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Response, abort, send_file
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.messages import ta_flags
from web.grades import Standing, course_assignment, standings, version_ids
from worker.models import Assignment, GradeReport, GradeRun, Submission, User

ERROR_CHECK_STATUSES = frozenset({"error", "crash", "timeout", "memory", "platform_error"})


def assignment_or_404(s: Session, course_id: int, slug: str) -> Assignment:
    found = course_assignment(s, course_id, slug)
    if found is None:
        abort(404)
    return found


def submission_or_404(s: Session, course_id: int, submission_id: int) -> tuple[Submission, str]:
    """The submission and its student's name, if it belongs to an assignment of the course."""
    row = s.execute(
        select(Submission, User.name)
        .join(Assignment, Assignment.id == Submission.assignment_id)
        .join(User, User.id == Submission.user_id)
        .where(Submission.id == submission_id, Assignment.course_id == course_id)
    ).first()
    if row is None:
        abort(404)
    return row[0], row[1]


@dataclass
class Listed:
    """A row of an assignment's submission list."""

    standing: Standing
    student: str
    flags: list[str] = field(default_factory=list)  # for a TA, from the newest report

    @property
    def submission(self) -> Submission:
        return self.standing.submission


@dataclass(frozen=True)
class SubmissionFilter:
    status: str = ""  # queued | running | graded | error
    min_score: float | None = None
    max_score: float | None = None
    late: str = ""  # yes | no
    errors: bool = False  # a check errored, crashed, timed out, ran out of memory
    flagged: bool = False  # the newest report lists something for a TA to look at
    student: str = ""

    @classmethod
    def from_args(cls, args: Any) -> SubmissionFilter:
        def number(key: str) -> float | None:
            try:
                return float(args.get(key, "").strip())
            except ValueError:
                return None

        return cls(
            status=args.get("status", "") if args.get("status") in STATUSES else "",
            min_score=number("min"),
            max_score=number("max"),
            late=args.get("late", "") if args.get("late") in ("yes", "no") else "",
            errors=args.get("errors") == "1",
            flagged=args.get("flagged") == "1",
            student=args.get("student", "").strip()[:120],
        )


STATUSES = ("queued", "running", "graded", "error")


def assignment_submissions(
    s: Session, course_id: int, slug: str, f: SubmissionFilter
) -> list[Listed]:
    """The assignment's submissions (every version), newest first, as ``f`` filters them."""
    rows = s.execute(
        select(Submission, User.name)
        .join(User, User.id == Submission.user_id)
        .where(Submission.assignment_id.in_(version_ids(s, course_id, slug)))
        .order_by(Submission.id.desc())
    ).all()
    names = {sub.id: name for sub, name in rows}
    out = []
    for st in standings(s, [sub for sub, _ in rows]):
        name = names[st.submission.id]
        score = st.final_score
        if f.student and f.student.lower() not in name.lower():
            continue
        if f.status and st.status != f.status:
            continue
        if f.min_score is not None and (score is None or score < f.min_score):
            continue
        if f.max_score is not None and (score is None or score > f.max_score):
            continue
        if f.late and st.submission.late != (f.late == "yes"):
            continue
        out.append(Listed(st, name))
    if f.errors:
        out = [x for x in out if x.standing.submission.id in _with_errors(s, out)]
    flags = _flags(s, out)
    for x in out:
        x.flags = flags.get(x.submission.id, [])
    if f.flagged:
        out = [x for x in out if x.flags]
    return out


def _flags(s: Session, listed: list[Listed]) -> dict[int, list[str]]:
    """What each submission's newest report lists for a TA to look at (grader/messages.py)."""
    report_ids = [x.standing.report.id for x in listed if x.standing.report is not None]
    found = {}
    for sub_id, doc in s.execute(
        select(GradeReport.submission_id, GradeReport.report).where(GradeReport.id.in_(report_ids))
    ):
        checks = doc.get("checks", []) if isinstance(doc, dict) else []
        flags = ta_flags(checks if isinstance(checks, list) else [])
        if flags:
            found[sub_id] = flags
    return found


def _with_errors(s: Session, listed: list[Listed]) -> set[int]:
    """Submissions whose newest report has a check that did not run to a verdict."""
    report_ids = [x.standing.report.id for x in listed if x.standing.report is not None]
    hit = {x.submission.id for x in listed if x.standing.status == "error"}
    for sub_id, doc in s.execute(
        select(GradeReport.submission_id, GradeReport.report).where(GradeReport.id.in_(report_ids))
    ):
        checks = doc.get("checks", []) if isinstance(doc, dict) else []
        if doc.get("status") != "graded" or any(
            c.get("status") in ERROR_CHECK_STATUSES for c in checks
        ):
            hit.add(sub_id)
    return hit


def reports_of(s: Session, submission_id: int) -> list[tuple[GradeReport, GradeRun, str | None]]:
    """Every report of the submission, newest first, with its run and who asked for it."""
    rows = s.execute(
        select(GradeReport, GradeRun, User.name)
        .join(GradeRun, GradeRun.id == GradeReport.run_id)
        .outerjoin(User, User.id == GradeRun.requested_by)
        .where(GradeReport.submission_id == submission_id)
        .order_by(GradeReport.id.desc())
    ).all()
    return [(r, run, who) for r, run, who in rows]


def runs_of(s: Session, submission_id: int) -> list[GradeRun]:
    return list(
        s.scalars(
            select(GradeRun)
            .where(GradeRun.submission_id == submission_id)
            .order_by(GradeRun.id.desc())
        )
    )


def starter_files(assignment: Assignment) -> dict[str, str]:
    """The assignment's starter code (``starter/*.py``), which similarity must not count."""
    folder = Path(assignment.path) / "starter"
    if not folder.is_dir():
        return {}
    return {
        p.relative_to(folder).as_posix(): p.read_text(errors="replace")
        for p in sorted(folder.rglob("*.py"))
        if p.is_file() and not p.is_symlink()
    }


def starter_zip(assignment: Assignment) -> Response:
    """The starter code as students download it: ``<slug>/...`` in ``<slug>-starter.zip``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in sorted(starter_files(assignment).items()):
            zf.writestr(f"{assignment.slug}/{name}", text)
    return send_file(
        io.BytesIO(buf.getvalue()),
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"{assignment.slug}-starter.zip",
    )


_SLUG = re.compile(r"^[A-Za-z0-9_.-]{1,120}$")


def valid_slug(slug: str) -> bool:
    return bool(_SLUG.match(slug))
