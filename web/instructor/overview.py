"""What an instructor watches: submissions per day, the queue, grading times, failed runs;
and the built-in assignments a course may add.

Computed over the course's submissions in a few queries; times are bucketed in
Python (dates in SQL differ between SQLite and PostgreSQL).
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from web.demo import built_in_assignments
from web.grades import standings
from worker.models import IN_FLIGHT, Assignment, GradeRun, RunStatus, Submission, User, utcnow

DAYS = 14
RECENT_RUNS = 500


@dataclass(frozen=True)
class Overview:
    per_day: list[tuple[date, int]]  # the last DAYS days, oldest first
    waiting: int  # runs queued or sent to a worker
    running: int
    grading_median_s: float | None  # of the last RECENT_RUNS finished runs
    grading_max_s: float | None
    waiting_median_s: float | None  # from queued to started
    failed: list[tuple[Submission, str, str]]  # (submission, student, why), newest first


def _course_submissions(s: Session, course_id: int) -> list[Submission]:
    return list(
        s.scalars(
            select(Submission)
            .join(Assignment, Assignment.id == Submission.assignment_id)
            .where(Assignment.course_id == course_id)
            .order_by(Submission.id.desc())
        )
    )


def overview(s: Session, course_id: int) -> Overview:
    subs = _course_submissions(s, course_id)
    today = utcnow().date()
    days = [today - timedelta(days=n) for n in range(DAYS - 1, -1, -1)]
    counted = Counter(sub.submitted_at.date() for sub in subs if sub.submitted_at.date() >= days[0])
    ids = [sub.id for sub in subs]
    runs = list(
        s.scalars(
            select(GradeRun)
            .where(GradeRun.submission_id.in_(ids or [-1]))
            .order_by(GradeRun.id.desc())
            .limit(RECENT_RUNS * 4)
        )
    )
    busy = Counter(
        dict(
            s.execute(
                select(GradeRun.status, func.count())
                .where(
                    GradeRun.submission_id.in_(ids or [-1]),
                    GradeRun.status.in_([x.value for x in IN_FLIGHT]),
                )
                .group_by(GradeRun.status)
            ).all()
        )
    )
    finished = [r for r in runs if r.status == RunStatus.DONE.value and r.started_at][:RECENT_RUNS]
    grading = [(r.finished_at - r.started_at).total_seconds() for r in finished if r.finished_at]
    waits = [(r.started_at - r.created_at).total_seconds() for r in finished if r.created_at]
    names = dict(
        s.execute(
            select(User.id, User.name).where(User.id.in_(list({x.user_id for x in subs})))
        ).all()
    )
    failed = []
    for st in standings(s, subs):
        if st.status != "error":
            continue
        why = st.run.error if st.run is not None and st.run.error else "a fault of the platform"
        failed.append((st.submission, names.get(st.submission.user_id, "?"), why[:300]))
    return Overview(
        per_day=[(d, counted.get(d, 0)) for d in days],
        waiting=busy[RunStatus.QUEUED.value] + busy[RunStatus.DISPATCHED.value],
        running=busy[RunStatus.RUNNING.value],
        grading_median_s=statistics.median(grading) if grading else None,
        grading_max_s=max(grading) if grading else None,
        waiting_median_s=statistics.median(waits) if waits else None,
        failed=failed,
    )


def addable(s: Session, course_id: int) -> list[tuple[Path, str]]:
    """Built-in assignments the course does not offer yet, as (folder, slug).

    Each course has its own rows of an assignment (``worker.submit``): what other courses
    offer makes no difference here.
    """
    import tomllib

    offered = set(s.scalars(select(Assignment.slug).where(Assignment.course_id == course_id)).all())
    out = []
    for folder in built_in_assignments():
        slug = str(tomllib.loads((folder / "assignment.toml").read_text()).get("slug", ""))
        if slug in offered:
            continue
        out.append((folder, slug))
    return out
