"""The gradebook of a course: students x assignments, the score that counts in each cell.

Built in a few queries whatever the class size (the course's assignments, its
students, their submissions with the newest report, the overrides and runs in
flight), then folded in Python in one pass over the submissions.
300 students x 10 assignments x a few submissions each is a few thousand rows:
cheaper to fold here than to ask the database per cell. The fold keeps, per
cell, only the submission that counts so far: one object per cell, not one per
submission (a class's page folds ~10,000 rows on every request).

A submission's score: the newest staff override when there is one (final:
no late penalty on top), else its newest report's score less its late
penalty. A cell's score: of the student's submissions to every version of the
assignment, the latest graded one or the best, as the assignment says.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grader.messages import ReportStatus
from worker.models import (
    IN_FLIGHT,
    Assignment,
    Counts,
    Enrollment,
    GradeReport,
    GradeRun,
    Role,
    ScoreOverride,
    Submission,
    User,
)


@dataclass(frozen=True)
class Column:
    """An assignment of the course, all its versions together (they share a slug)."""

    slug: str
    title: str
    max_score: float
    due: datetime | None
    counts: str
    version_ids: tuple[int, ...]


def final_score(
    override: float | None,
    report_score: float | None,
    report_status: str | None,
    late_penalty: float,
) -> float | None:
    """A submission's final score: ``web.grades.Standing.final_score``'s rule, on plain values."""
    if override is not None:
        return override
    if report_score is None or report_status == ReportStatus.PLATFORM_ERROR:
        return None
    return round(report_score * (1.0 - late_penalty), 6)


@dataclass(frozen=True, slots=True)
class Scored:
    """One submission as the gradebook sees it."""

    submission_id: int
    late: bool
    late_penalty: float
    report_score: float | None  # the newest report's, before the penalty
    report_status: str | None
    override: float | None
    pending: bool  # a run is queued or running
    # Its final score, computed once here: the page, its sorting and totals read it often.
    score: float | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        final = final_score(self.override, self.report_score, self.report_status, self.late_penalty)
        object.__setattr__(self, "score", final)


@dataclass(frozen=True)
class Cell:
    counted: Scored | None  # the submission that gives the grade
    submissions: int
    pending: bool

    @property
    def score(self) -> float | None:
        return self.counted.score if self.counted else None

    @property
    def late(self) -> bool:
        return bool(self.counted and self.counted.late)

    @property
    def overridden(self) -> bool:
        return bool(self.counted and self.counted.override is not None)


@dataclass
class Row:
    user_id: int
    name: str
    email: str
    cells: dict[str, Cell] = field(default_factory=dict)
    # From the roster import, for the LMS export (empty where no roster said).
    full_name: str = ""
    student_id: str = ""
    section: str = ""

    @property
    def total(self) -> float:
        return sum(c.score or 0.0 for c in self.cells.values())


@dataclass
class Gradebook:
    course_id: int
    columns: list[Column]
    rows: list[Row]

    @property
    def max_total(self) -> float:
        return sum(c.max_score for c in self.columns)


def rank(score: float, submission_id: int, counts: str) -> tuple[float, int]:
    """Of two graded submissions, the one with the higher rank counts.

    The same rule as ``web.grades.counting`` (what the student's own page shows):
    newest by submission id; the best with ties going to the newer one.
    """
    return (score, submission_id) if counts == Counts.BEST else (0.0, submission_id)


def course_columns(s: Session, course_id: int) -> list[Column]:
    """The course's assignments, one column per slug, described by their newest version."""
    rows = s.execute(
        select(Assignment).where(Assignment.course_id == course_id).order_by(Assignment.id)
    ).scalars()
    by_slug: dict[str, list[Assignment]] = {}
    for a in rows:
        by_slug.setdefault(a.slug, []).append(a)
    columns = []
    for slug, versions in by_slug.items():
        newest = versions[-1]
        columns.append(
            Column(
                slug,
                newest.title or slug,
                newest.max_score,
                newest.due,
                newest.counts,
                tuple(v.id for v in versions),
            )
        )
    columns.sort(key=lambda c: (c.due is None, c.due or datetime.max, c.slug))
    return columns


def _newest_report(mine, dialect: str):  # type: ignore[no-untyped-def]
    """The newest report's score and status for each submission: (columns, joins).

    On SQLite, two subqueries correlated with each submission, each answered by one
    probe of ix_grade_reports_submission_newest, which holds score and status. Joined
    on the newest report's id instead, SQLite looks each report up by its rowid and
    reads its row: a page or more of report JSON per submission, about half of the
    query's time. On PostgreSQL the newest ids, grouped once for the course and
    hash-joined, stay: there the correlated subqueries measured slower on a database
    of one course (and faster on one of six).
    """
    if dialect == "sqlite":

        def newest(column):  # type: ignore[no-untyped-def]
            return (
                select(column)
                .where(GradeReport.submission_id == Submission.id)
                .order_by(GradeReport.id.desc())
                .limit(1)
                .scalar_subquery()
            )

        return [newest(GradeReport.score), newest(GradeReport.status)], []
    newest_id = (
        select(GradeReport.submission_id, func.max(GradeReport.id).label("id"))
        .where(GradeReport.submission_id.in_(mine))
        .group_by(GradeReport.submission_id)
        .subquery()
    )
    return [GradeReport.score, GradeReport.status], [
        (newest_id, newest_id.c.submission_id == Submission.id),
        (GradeReport, GradeReport.id == newest_id.c.id),
    ]


def _students_query(course_id: int):  # type: ignore[no-untyped-def]
    """The course's students, by name: one row each."""
    return (
        select(
            User.id,
            User.name,
            User.email,
            User.full_name,
            User.student_id,
            Enrollment.section,
        )
        .join(Enrollment, Enrollment.user_id == User.id)
        .where(Enrollment.course_id == course_id, Enrollment.role == Role.STUDENT.value)
        .order_by(User.name, User.id)
    )


def _submissions_query(course_id: int, version_ids: list[int], dialect: str):  # type: ignore[no-untyped-def]
    """One row per submission of the course's students to its assignments, with the newest
    report's score and status (as ``_newest_report`` reads them).

    Found through ix_submissions_user_assignment, student by student: the cost follows
    the course's size, not the database's.
    """
    students = select(Enrollment.user_id).where(
        Enrollment.course_id == course_id, Enrollment.role == Role.STUDENT.value
    )
    theirs = (Submission.user_id.in_(students), Submission.assignment_id.in_(version_ids))
    mine = select(Submission.id).where(*theirs)
    report_columns, report_joins = _newest_report(mine, dialect)
    query = select(
        Submission.id,
        Submission.user_id,
        Submission.assignment_id,
        Submission.late,
        Submission.late_penalty,
        *report_columns,
    ).select_from(Submission)
    for joined, on in report_joins:
        query = query.outerjoin(joined, on)
    return query.where(*theirs), mine


def _overrides_and_runs(conn, mine) -> tuple[dict[int, float], set[int]]:  # type: ignore[no-untyped-def]
    """The newest override's score of each overridden submission among ``mine``, and
    the submissions among them with a run queued or running: a few rows each."""
    newest = (
        select(func.max(ScoreOverride.id))
        .where(ScoreOverride.submission_id.in_(mine))
        .group_by(ScoreOverride.submission_id)
    )
    overrides = dict(
        conn.execute(
            select(ScoreOverride.submission_id, ScoreOverride.score).where(
                ScoreOverride.id.in_(newest)
            )
        ).all()
    )
    busy = set(
        conn.scalars(
            select(GradeRun.submission_id)
            .where(
                GradeRun.status.in_([s.value for s in IN_FLIGHT]),
                GradeRun.submission_id.in_(mine),
            )
            .distinct()
        )
    )
    return overrides, busy


def build_gradebook(s: Session, course_id: int) -> Gradebook:
    """The course's gradebook in five queries whatever its size: its assignments, its
    students, their submissions with the newest report's score, then the few
    overrides and runs in flight; folded here in one pass over the submissions.

    Separate queries, not one join: joined, every submission's row carried its
    student's names and SQLite sorted all of them by name; apart, the submissions
    come unsorted and the names once per student (about 2.5 times less SQLite time).
    """
    columns = course_columns(s, course_id)
    slug_of = {vid: c.slug for c in columns for vid in c.version_ids}
    counts = {c.slug: c.counts for c in columns}
    conn = s.connection()
    rows: dict[int, Row] = {}
    students = conn.execute(_students_query(course_id)).all()
    for uid, name, email, full_name, sis_id, section in students:
        rows[uid] = Row(uid, name, email or "", full_name=full_name or "", student_id=sis_id or "")
        rows[uid].section = section or ""
    query, mine = _submissions_query(course_id, list(slug_of) or [-1], conn.dialect.name)
    overrides, busy = _overrides_and_runs(conn, mine)
    # Per (student, slug): [submissions, pending, rank of the one that counts, its row].
    folded: dict[tuple[int, str], list[Any]] = {}
    # Core rows, not the ORM's: thousands of plain tuples, nothing to map to objects,
    # fetched at once (row by row, each fetch is a call through the driver).
    for sub_id, uid, aid, late, penalty, rscore, rstatus in conn.execute(query).all():
        slug = slug_of[aid]
        acc = folded.get((uid, slug))
        if acc is None:
            acc = folded[(uid, slug)] = [0, False, None, None]
        acc[0] += 1
        pending = sub_id in busy
        if pending:
            acc[1] = True
        override = overrides.get(sub_id)
        penalty = float(penalty or 0.0)
        score = final_score(override, rscore, rstatus, penalty)
        if score is None:
            continue  # nothing that counts (yet)
        mine_rank = rank(score, sub_id, counts[slug])
        if acc[2] is None or mine_rank > acc[2]:
            acc[2] = mine_rank
            acc[3] = (sub_id, bool(late), penalty, rscore, rstatus, override, pending)
    for row in rows.values():
        cells = row.cells
        for col in columns:
            acc = folded.get((row.user_id, col.slug))
            if acc is None:
                cells[col.slug] = Cell(None, 0, False)
            else:
                counted = None if acc[3] is None else Scored(*acc[3])
                cells[col.slug] = Cell(counted, acc[0], acc[1])
    return Gradebook(course_id, columns, list(rows.values()))


# -- sorting and filtering, as the page's query string asks ------------------------------

FILTERS = {
    "": "everyone",
    "late": "a late submission counts",
    "overridden": "an overridden score",
    "missing": "a missing grade",
    "pending": "grading in progress",
}


def select_rows(book: Gradebook, query: str = "", only: str = "", slug: str = "") -> list[Row]:
    """Rows whose name or email contains ``query``, with the mark ``only`` (in ``slug``)."""
    q = query.strip().lower()
    out = []
    for row in book.rows:
        if q and q not in row.name.lower() and q not in row.email.lower():
            continue
        cells = [row.cells[slug]] if slug in row.cells else list(row.cells.values())
        if only == "late" and not any(c.late for c in cells):
            continue
        if only == "overridden" and not any(c.overridden for c in cells):
            continue
        if only == "missing" and not any(c.score is None for c in cells):
            continue
        if only == "pending" and not any(c.pending for c in cells):
            continue
        out.append(row)
    return out


def sort_rows(rows: list[Row], key: str = "name", descending: bool = False) -> list[Row]:
    """By ``name``, ``total`` or an assignment's slug; a missing score sorts last either way."""
    if key == "name":
        return sorted(rows, key=lambda r: r.name.lower(), reverse=descending)
    if key == "total":
        return sorted(rows, key=lambda r: (r.total, r.name), reverse=descending)

    def score(r: Row) -> float | None:
        cell = r.cells.get(key)
        return cell.score if cell else None

    present = [r for r in rows if score(r) is not None]
    absent = [r for r in rows if score(r) is None]
    present.sort(key=lambda r: (score(r), r.name), reverse=descending)
    return present + sorted(absent, key=lambda r: r.name.lower())
