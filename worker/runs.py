"""The grading runs' state machine, in the database: claim, heartbeat, finish, requeue, dispatch.

Every transition is one conditional UPDATE (see ``worker.models`` for the
diagram), so two workers, a worker and the reaper, or a worker that came back
from the dead can race freely: at most one of them changes the row, and the
loser learns it from the row count. ``attempt`` is the fencing token: only the
claim that set it may heartbeat, finish or release the run.

Fairness lives in ``dispatch``: at most ``dispatch_per_student`` runs per student
and queue are in the broker or running at once; the rest wait here, oldest
first, and are dispatched as those finish. The broker's FIFO queues then
interleave students instead of serving one student's fifty submissions before
a classmate's one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from worker.config import Settings
from worker.db import session_factory
from worker.models import (
    Assignment,
    GradeReport,
    GradeRun,
    RunStatus,
    Submission,
    User,
    utcnow,
)

log = logging.getLogger(__name__)

# publish(run_id, queue, soft_time_limit_s): put one message for the run in the broker.
Publish = Callable[[int, str, float], None]


@dataclass(frozen=True)
class Claim:
    """A worker's hold on one run: valid while ``attempt`` is the run's attempt."""

    run_id: int
    attempt: int
    worker: str
    submission_id: int
    user_id: int
    queue: str
    previous_error: str = ""
    # What to grade, read in the claim's transaction: the assignment and the stored upload.
    slug: str = ""
    assignment_path: str = ""
    manifest_hash: str = ""
    sha256: str = ""
    filename: str = ""


@dataclass(frozen=True)
class Expired:
    run_id: int
    attempt: int
    worker: str | None
    sandbox_label: str


def staged_name(run_id: int, attempt: int, filename: str) -> str:
    """The name a run's upload takes on the worker; it also names the sandbox (its label).

    A .py file or a .zip keeps its kind (the engine renames a lone .py to the
    file the assignment expects, and opens a zip by content); anything else is
    staged inside a folder of this name under its own file name.
    """
    suffix = Path(filename).suffix.lower()
    base = f"run-{run_id}-a{attempt}"
    return base + suffix if suffix in (".py", ".zip") else base


def sandbox_label(slug: str, run_id: int, attempt: int, filename: str) -> str:
    """The ``dlgrade.label`` the engine gives this attempt's Docker containers."""
    return f"{slug}:{staged_name(run_id, attempt, filename)}"


class _LeaseLost(Exception):
    pass


class GradeQueue:
    """The runs of one database, with the settings that bound them."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.Session = session_factory(settings.database_url)

    # -- helpers -------------------------------------------------------------------------

    def _lease_until(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.settings.lease_seconds)

    def _lock_user(self, s: Session, user_id: int) -> None:
        """Serialise decisions about one student (SQLite's BEGIN IMMEDIATE already does)."""
        if s.get_bind().dialect.name != "sqlite":
            s.execute(select(User.id).where(User.id == user_id).with_for_update())

    @staticmethod
    def _held(claim: Claim) -> Any:
        return and_(
            GradeRun.id == claim.run_id,
            GradeRun.attempt == claim.attempt,
            GradeRun.status == RunStatus.RUNNING.value,
        )

    # -- a worker's side -------------------------------------------------------------------

    def claim(self, run_id: int, worker: str) -> Claim | None:
        """Take the run if nobody holds it; None when it is done, held, or backing off."""
        now = utcnow()
        ready = or_(GradeRun.not_before.is_(None), GradeRun.not_before <= now)
        claimable = or_(
            and_(GradeRun.status.in_([RunStatus.QUEUED.value, RunStatus.DISPATCHED.value]), ready),
            and_(GradeRun.status == RunStatus.RUNNING.value, GradeRun.lease_expires_at < now),
        )
        stmt = (
            update(GradeRun)
            .where(GradeRun.id == run_id, claimable)
            .values(
                status=RunStatus.RUNNING.value,
                attempt=GradeRun.attempt + 1,
                worker=worker[:200],
                started_at=now,
                heartbeat_at=now,
                lease_expires_at=self._lease_until(now),
                finished_at=None,
                progress="starting",
            )
            .returning(
                GradeRun.attempt,
                GradeRun.submission_id,
                GradeRun.user_id,
                GradeRun.queue,
                GradeRun.error,
            )
        )
        with self.Session() as s, s.begin():
            row = s.execute(stmt).first()
            if row is None:
                return None
            job = s.execute(
                select(
                    Assignment.slug,
                    Assignment.path,
                    Assignment.manifest_hash,
                    Submission.sha256,
                    Submission.filename,
                )
                .join(Assignment, Assignment.id == Submission.assignment_id)
                .where(Submission.id == row.submission_id)
            ).one()
        return Claim(
            run_id,
            row.attempt,
            worker,
            row.submission_id,
            row.user_id,
            row.queue,
            row.error,
            slug=job.slug,
            assignment_path=job.path,
            manifest_hash=job.manifest_hash,
            sha256=job.sha256,
            filename=job.filename,
        )

    def heartbeat(self, claim: Claim, progress: str) -> bool:
        """Extend the lease and record progress; False when the run is no longer ours."""
        now = utcnow()
        stmt = (
            update(GradeRun)
            .where(self._held(claim))
            .values(
                lease_expires_at=self._lease_until(now), heartbeat_at=now, progress=progress[:200]
            )
        )
        with self.Session() as s, s.begin():
            return s.execute(stmt).rowcount == 1

    def finish(
        self,
        claim: Claim,
        report: dict[str, Any],
        manifest_hash: str,
        publish: Publish | None = None,
    ) -> bool:
        """Store the report and mark the run done, atomically; False if the run is not ours.

        The run's conditional update and the unique ``run_id`` of the report make
        a second report for the same run impossible, whoever races. With
        ``publish``, the student's next run is dispatched in the same transaction
        (one commit fewer per grading); a broker error there never undoes the report.
        """
        now = utcnow()
        try:
            with self.Session() as s, s.begin():
                done = s.execute(
                    update(GradeRun)
                    .where(self._held(claim))
                    .values(
                        status=RunStatus.DONE.value,
                        finished_at=now,
                        lease_expires_at=None,
                        progress="done",
                    )
                )
                if done.rowcount != 1:
                    raise _LeaseLost
                s.add(
                    GradeReport(
                        run_id=claim.run_id,
                        submission_id=claim.submission_id,
                        status=str(report["status"]),
                        score=float(report["score"]),
                        max_score=float(report["max_score"]),
                        report=report,
                        manifest_hash=manifest_hash,
                        worker=claim.worker[:200],
                        created_at=now,
                    )
                )
                s.flush()
                if publish is not None:
                    try:
                        with s.begin_nested():
                            self._dispatch_in(s, claim.user_id, claim.queue, publish, now)
                    except Exception as err:
                        log.warning("could not dispatch after run %s: %s", claim.run_id, err)
        except _LeaseLost:
            log.warning("run %s attempt %s lost its lease; report discarded", *_ids(claim))
            return False
        except IntegrityError:
            log.warning("run %s already has a report; attempt %s discarded", *_ids(claim))
            return False
        return True

    def fail(self, claim: Claim, message: str) -> bool:
        """Give the run up without a report (attempts exhausted, assignment unusable)."""
        stmt = (
            update(GradeRun)
            .where(self._held(claim))
            .values(
                status=RunStatus.ERROR.value,
                finished_at=utcnow(),
                lease_expires_at=None,
                error=message,
                progress="",
            )
        )
        with self.Session() as s, s.begin():
            return s.execute(stmt).rowcount == 1

    def release(self, claim: Claim, message: str, delay_s: float) -> bool:
        """Put the run back in the queue after an infrastructure failure, not before ``delay_s``."""
        now = utcnow()
        stmt = (
            update(GradeRun)
            .where(self._held(claim))
            .values(
                status=RunStatus.QUEUED.value,
                lease_expires_at=None,
                not_before=now + timedelta(seconds=delay_s),
                error=message,
                progress=f"retrying in {delay_s:.0f}s",
            )
        )
        with self.Session() as s, s.begin():
            return s.execute(stmt).rowcount == 1

    def backoff(self, attempt: int) -> float:
        """Seconds to wait before attempt ``attempt + 1`` after an infrastructure failure."""
        s = self.settings
        return min(s.retry_backoff_max, s.retry_backoff * 2 ** max(0, attempt - 1))

    # -- dispatch (fairness) ---------------------------------------------------------------

    def dispatch(self, user_id: int, queue: str, publish: Publish) -> list[int]:
        """Send the student's oldest ready runs on ``queue`` while their window has room."""
        with self.Session() as s, s.begin():
            return self._dispatch_in(s, user_id, queue, publish, utcnow())

    def _dispatch_in(
        self, s: Session, user_id: int, queue: str, publish: Publish, now: datetime
    ) -> list[int]:
        sent: list[int] = []
        self._lock_user(s, user_id)
        busy = s.scalar(
            select(func.count())
            .select_from(GradeRun)
            .where(
                GradeRun.user_id == user_id,
                GradeRun.queue == queue,
                GradeRun.status.in_([RunStatus.DISPATCHED.value, RunStatus.RUNNING.value]),
            )
        )
        room = self.settings.dispatch_per_student - int(busy or 0)
        if room <= 0:
            return sent
        ready = s.execute(
            select(GradeRun.id, Assignment.time_limit_s)
            .join(Submission, Submission.id == GradeRun.submission_id)
            .join(Assignment, Assignment.id == Submission.assignment_id)
            .where(
                GradeRun.user_id == user_id,
                GradeRun.queue == queue,
                GradeRun.status == RunStatus.QUEUED.value,
                or_(GradeRun.not_before.is_(None), GradeRun.not_before <= now),
            )
            .order_by(GradeRun.id)
            .limit(room)
        ).all()
        for run_id, time_limit in ready:
            marked = s.execute(
                update(GradeRun)
                .where(GradeRun.id == run_id, GradeRun.status == RunStatus.QUEUED.value)
                .values(status=RunStatus.DISPATCHED.value, dispatched_at=now)
            )
            if marked.rowcount == 1:
                # Published before the commit: if publishing fails the run stays
                # queued; if the commit fails, a worker may claim a queued run.
                publish(run_id, queue, float(time_limit))
                sent.append(run_id)
        return sent

    def dispatch_ready(self, publish: Publish) -> list[int]:
        """Dispatch for every student with ready runs, longest-waiting first."""
        now = utcnow()
        with self.Session() as s:
            pairs = s.execute(
                select(GradeRun.user_id, GradeRun.queue)
                .where(
                    GradeRun.status == RunStatus.QUEUED.value,
                    or_(GradeRun.not_before.is_(None), GradeRun.not_before <= now),
                )
                .group_by(GradeRun.user_id, GradeRun.queue)
                .order_by(func.min(GradeRun.id))
            ).all()
        sent: list[int] = []
        for user_id, queue in pairs:
            sent += self.dispatch(user_id, queue, publish)
        return sent

    # -- the reaper's side ----------------------------------------------------------------

    def expired(self) -> list[Expired]:
        """Running runs whose lease ran out: their worker stopped heartbeating."""
        now = utcnow()
        with self.Session() as s:
            rows = s.execute(
                select(
                    GradeRun.id,
                    GradeRun.attempt,
                    GradeRun.worker,
                    Assignment.slug,
                    Submission.filename,
                )
                .join(Submission, Submission.id == GradeRun.submission_id)
                .join(Assignment, Assignment.id == Submission.assignment_id)
                .where(GradeRun.status == RunStatus.RUNNING.value, GradeRun.lease_expires_at < now)
            ).all()
        return [
            Expired(r.id, r.attempt, r.worker, sandbox_label(r.slug, r.id, r.attempt, r.filename))
            for r in rows
        ]

    def requeue_expired(self, run: Expired) -> str | None:
        """Put an expired run back in the queue, or give it up after ``max_attempts``.

        Returns the run's new status ("queued" or "error"), None if it was not expired.
        """
        now = utcnow()
        exhausted = run.attempt >= self.settings.max_attempts
        message = f"attempt {run.attempt} lost: worker {run.worker} stopped renewing its lease"
        if exhausted:
            message = f"gave up after {run.attempt} attempts; last: {message}"
        stmt = (
            update(GradeRun)
            .where(
                GradeRun.id == run.run_id,
                GradeRun.attempt == run.attempt,
                GradeRun.status == RunStatus.RUNNING.value,
                GradeRun.lease_expires_at < now,
            )
            .values(
                status=(RunStatus.ERROR if exhausted else RunStatus.QUEUED).value,
                lease_expires_at=None,
                finished_at=now if exhausted else None,
                error=message,
                progress="",
            )
        )
        with self.Session() as s, s.begin():
            changed = s.execute(stmt).rowcount == 1
        if not changed:
            return None
        return (RunStatus.ERROR if exhausted else RunStatus.QUEUED).value

    def redispatch_stale(self) -> int:
        """Return to the queue dispatched runs nobody claimed for ``redispatch_after`` seconds."""
        cutoff = utcnow() - timedelta(seconds=self.settings.redispatch_after)
        stmt = (
            update(GradeRun)
            .where(
                GradeRun.status == RunStatus.DISPATCHED.value,
                GradeRun.dispatched_at < cutoff,
            )
            .values(status=RunStatus.QUEUED.value)
        )
        with self.Session() as s, s.begin():
            return int(s.execute(stmt).rowcount or 0)


def _ids(claim: Claim) -> tuple[int, int]:
    return claim.run_id, claim.attempt
