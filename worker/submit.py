"""Accept a submission: admission limits, content-addressed storage, rows, dispatch.

Order matters for "never lose a submission": the bytes are on disk (fsynced)
before the row that names them commits, and the row commits before any message
is sent. If the broker is down the run simply waits in the database as queued;
any worker's reaper dispatches it later.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, Row, and_, case, func, insert, select
from sqlalchemy.exc import IntegrityError

from grader.assignment import Assignment as AssignmentSpec
from worker.config import Settings, parse_rate
from worker.models import (
    IN_FLIGHT,
    Assignment,
    GradeRun,
    RunStatus,
    Submission,
    User,
    as_utc_naive,
    utcnow,
)
from worker.runs import GradeQueue, Publish
from worker.storage import read_upload, store_bytes

log = logging.getLogger(__name__)


class SubmissionRefused(Exception):
    """A limit said no (too many in flight, too many too fast); the message is for the student."""

    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class Accepted:
    submission_id: int
    run_id: int
    sha256: str
    size: int
    filename: str
    late: bool
    queue: str
    dispatched: bool
    note: str = ""


def soft_time_limit(spec: AssignmentSpec, margin_s: float) -> float:
    """Celery's soft limit for one grading: everything the sandbox may take, plus a margin."""
    return float(spec.total_seconds + spec.load.seconds + margin_s)


def _get_or_create_user(conn: Connection, name: str) -> int:
    user_id = conn.scalar(select(User.id).where(User.name == name))
    if user_id is not None:
        return int(user_id)
    try:
        with conn.begin_nested():
            return int(conn.scalar(insert(User).values(name=name).returning(User.id)))
    except IntegrityError:
        user_id = conn.scalar(select(User.id).where(User.name == name))
        assert user_id is not None
        return int(user_id)


def _get_or_create_assignment(conn: Connection, spec: AssignmentSpec, settings: Settings) -> Row:
    """The assignment's row (id, queue, due) for this version of its checks."""
    find = select(Assignment.id, Assignment.queue, Assignment.due).where(
        Assignment.slug == spec.slug, Assignment.manifest_hash == spec.manifest_hash
    )
    row = conn.execute(find).first()
    if row is not None:
        return row
    try:
        with conn.begin_nested():
            return conn.execute(
                insert(Assignment)
                .values(
                    slug=spec.slug,
                    version=spec.version,
                    manifest_hash=spec.manifest_hash,
                    title=spec.title,
                    queue=spec.queue,
                    path=str(spec.root),
                    max_score=spec.max_score,
                    time_limit_s=soft_time_limit(spec, settings.time_limit_margin),
                    due=as_utc_naive(spec.due),
                )
                .returning(Assignment.id, Assignment.queue, Assignment.due)
            ).one()
    except IntegrityError:
        return conn.execute(find).one()


def rate_limit_for(spec: AssignmentSpec, settings: Settings) -> tuple[int, float]:
    """The manifest's ``[submission] rate_limit`` ("COUNT/SECONDS"), else the setting."""
    own = spec.manifest.get("submission", {}).get("rate_limit")
    return parse_rate(str(own or settings.rate_limit))


def _admit(
    conn: Connection,
    user_id: int,
    student: str,
    spec: AssignmentSpec,
    settings: Settings,
    now: datetime,
) -> int:
    """Refuse (SubmissionRefused) past a limit; else how many of the student's runs on
    the assignment's queue are in the broker or running (their fairness window)."""
    busy_here = and_(
        GradeRun.queue == spec.queue,
        GradeRun.status.in_([RunStatus.DISPATCHED.value, RunStatus.RUNNING.value]),
    )
    in_flight, busy = conn.execute(
        select(func.count(), func.coalesce(func.sum(case((busy_here, 1), else_=0)), 0)).where(
            GradeRun.user_id == user_id, GradeRun.status.in_([x.value for x in IN_FLIGHT])
        )
    ).one()
    if int(in_flight or 0) >= settings.max_in_flight:
        raise SubmissionRefused(
            f"{student} already has {in_flight} submissions waiting to be graded "
            f"(at most {settings.max_in_flight}); submit again when some are graded"
        )
    count, window = rate_limit_for(spec, settings)
    since = now - timedelta(seconds=window)
    recent = conn.execute(
        select(Submission.submitted_at)
        .join(Assignment, Assignment.id == Submission.assignment_id)
        .where(
            Submission.user_id == user_id,
            Assignment.slug == spec.slug,
            Submission.submitted_at > since,
        )
        .order_by(Submission.submitted_at)
    ).all()
    if len(recent) >= count:
        oldest = recent[-count][0]
        wait = max(1.0, (oldest + timedelta(seconds=window) - now).total_seconds())
        raise SubmissionRefused(
            f"{student} submitted {spec.slug} {len(recent)} times in the last "
            f"{window:g}s (at most {count}); try again in {wait:.0f}s",
            retry_after_s=wait,
        )
    return int(busy or 0)


def submit(
    spec: AssignmentSpec,
    upload: str | Path,
    student: str,
    settings: Settings,
    publish: Publish | None,
) -> Accepted:
    """Store ``upload`` for ``student``, record it, and dispatch it if the student has room.

    Raises SubmissionRefused (a limit), storage.UploadTooLarge, or FileNotFoundError.
    ``publish`` None records the run as queued without contacting the broker.
    """
    data, filename = read_upload(Path(upload), settings.max_upload_bytes)
    sha, size = store_bytes(settings.data_dir, data)
    grade_queue = GradeQueue(settings)
    now = utcnow()
    with grade_queue.engine.begin() as conn:
        user_id = _get_or_create_user(conn, student)
        grade_queue._lock_user(conn, user_id)
        busy = _admit(conn, user_id, student, spec, settings, now)
        assignment = _get_or_create_assignment(conn, spec, settings)
        late = assignment.due is not None and now > assignment.due
        sub_id = conn.scalar(
            insert(Submission)
            .values(
                assignment_id=assignment.id,
                user_id=user_id,
                sha256=sha,
                size=size,
                filename=filename[:255],
                submitted_at=now,
                late=late,
            )
            .returning(Submission.id)
        )
        run_id = conn.scalar(
            insert(GradeRun)
            .values(
                submission_id=sub_id,
                user_id=user_id,
                queue=assignment.queue,
                status=RunStatus.QUEUED.value,
                created_at=now,
            )
            .returning(GradeRun.id)
        )
    queue = assignment.queue
    dispatched, note = False, ""
    if publish is None:
        note = "queued; not dispatched (no broker)"
    elif queue == spec.queue and busy >= settings.dispatch_per_student:
        # Seen under the student's lock: their window was full, and whatever empties it
        # (a finish, a release, the reaper) dispatches after this commit, under that lock.
        note = "queued behind this student's earlier submissions"
    else:
        try:
            dispatched = run_id in grade_queue.dispatch(user_id, queue, publish)
            if not dispatched:
                note = "queued behind this student's earlier submissions"
        except Exception as err:
            log.warning("could not dispatch run %s now: %s", run_id, err)
            note = (
                f"queued; the broker did not answer ({type(err).__name__}), a worker will send it"
            )
    return Accepted(sub_id, run_id, sha, size, filename, late, queue, dispatched, note)
