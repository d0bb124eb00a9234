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

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

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


def _get_or_create_user(s: Session, name: str) -> User:
    user = s.scalar(select(User).where(User.name == name))
    if user is not None:
        return user
    try:
        with s.begin_nested():
            user = User(name=name)
            s.add(user)
    except IntegrityError:
        user = s.scalar(select(User).where(User.name == name))
        assert user is not None
    return user


def _get_or_create_assignment(s: Session, spec: AssignmentSpec, settings: Settings) -> Assignment:
    row = s.scalar(
        select(Assignment).where(
            Assignment.slug == spec.slug, Assignment.manifest_hash == spec.manifest_hash
        )
    )
    if row is not None:
        return row
    try:
        with s.begin_nested():
            row = Assignment(
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
            s.add(row)
    except IntegrityError:
        row = s.scalar(
            select(Assignment).where(
                Assignment.slug == spec.slug, Assignment.manifest_hash == spec.manifest_hash
            )
        )
        assert row is not None
    return row


def rate_limit_for(spec: AssignmentSpec, settings: Settings) -> tuple[int, float]:
    """The manifest's ``[submission] rate_limit`` ("COUNT/SECONDS"), else the setting."""
    own = spec.manifest.get("submission", {}).get("rate_limit")
    return parse_rate(str(own or settings.rate_limit))


def _admit(s: Session, user: User, spec: AssignmentSpec, settings: Settings, now: datetime) -> None:
    in_flight = s.scalar(
        select(func.count())
        .select_from(GradeRun)
        .where(GradeRun.user_id == user.id, GradeRun.status.in_([x.value for x in IN_FLIGHT]))
    )
    if int(in_flight or 0) >= settings.max_in_flight:
        raise SubmissionRefused(
            f"{user.name} already has {in_flight} submissions waiting to be graded "
            f"(at most {settings.max_in_flight}); submit again when some are graded"
        )
    count, window = rate_limit_for(spec, settings)
    since = now - timedelta(seconds=window)
    recent = s.execute(
        select(Submission.submitted_at)
        .join(Assignment, Assignment.id == Submission.assignment_id)
        .where(
            Submission.user_id == user.id,
            Assignment.slug == spec.slug,
            Submission.submitted_at > since,
        )
        .order_by(Submission.submitted_at)
    ).all()
    if len(recent) >= count:
        oldest = recent[-count][0]
        wait = max(1.0, (oldest + timedelta(seconds=window) - now).total_seconds())
        raise SubmissionRefused(
            f"{user.name} submitted {spec.slug} {len(recent)} times in the last "
            f"{window:g}s (at most {count}); try again in {wait:.0f}s",
            retry_after_s=wait,
        )


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
    with grade_queue.Session() as s, s.begin():
        user = _get_or_create_user(s, student)
        grade_queue._lock_user(s, user.id)
        _admit(s, user, spec, settings, now)
        assignment = _get_or_create_assignment(s, spec, settings)
        late = assignment.due is not None and now > assignment.due
        sub = Submission(
            assignment_id=assignment.id,
            user_id=user.id,
            sha256=sha,
            size=size,
            filename=filename[:255],
            submitted_at=now,
            late=late,
        )
        s.add(sub)
        s.flush()
        run = GradeRun(
            submission_id=sub.id,
            user_id=user.id,
            queue=assignment.queue,
            status=RunStatus.QUEUED.value,
            created_at=now,
        )
        s.add(run)
        s.flush()
        ids = (sub.id, run.id, user.id, assignment.queue)
    sub_id, run_id, user_id, queue = ids
    dispatched, note = False, ""
    if publish is None:
        note = "queued; not dispatched (no broker)"
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
