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

The worker's path (claim, heartbeat, finish and its dispatch) runs once per
grading, beside the grading itself on the same cores, so it is written for few
round trips: statements built once at import (``bindparam`` placeholders, so
SQLAlchemy's compiled cache is hit without rebuilding them), Core connections
rather than ORM sessions, and on PostgreSQL the one-statement steps (claim,
heartbeat, fail, release) in autocommit, which spares a BEGIN and a COMMIT
round trip each without changing what they do: one statement is atomic alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, and_, bindparam, case, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from worker.config import Settings
from worker.db import get_engine, session_factory
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


# -- the statements of the worker's path, built once -------------------------------------
# Placeholders are named p_*: SQLAlchemy reserves a column's own name in UPDATE ... SET.

_QUEUED, _DISPATCHED, _RUNNING = (
    RunStatus.QUEUED.value,
    RunStatus.DISPATCHED.value,
    RunStatus.RUNNING.value,
)
_READY = or_(GradeRun.not_before.is_(None), GradeRun.not_before <= bindparam("p_now"))
_CLAIM_VALUES = {
    "status": _RUNNING,
    "attempt": GradeRun.attempt + 1,
    "worker": bindparam("p_worker"),
    "started_at": bindparam("p_now"),
    "heartbeat_at": bindparam("p_now"),
    "lease_expires_at": bindparam("p_lease"),
    "finished_at": None,
    "progress": "starting",
}
_CLAIMABLE = and_(
    GradeRun.id == bindparam("p_run"),
    or_(
        and_(GradeRun.status.in_([_QUEUED, _DISPATCHED]), _READY),
        and_(GradeRun.status == _RUNNING, GradeRun.lease_expires_at < bindparam("p_now")),
    ),
)
_RUN_COLUMNS = (
    GradeRun.attempt,
    GradeRun.submission_id,
    GradeRun.user_id,
    GradeRun.queue,
    GradeRun.error,
)
_JOB_COLUMNS = (
    Assignment.slug,
    Assignment.path,
    Assignment.manifest_hash,
    Submission.sha256,
    Submission.filename,
)
# Portable: take the run, then read what to grade in the same transaction.
CLAIM = update(GradeRun).where(_CLAIMABLE).values(_CLAIM_VALUES).returning(*_RUN_COLUMNS)
JOB = (
    select(*_JOB_COLUMNS)
    .join(Assignment, Assignment.id == Submission.assignment_id)
    .where(Submission.id == bindparam("p_submission"))
)
# PostgreSQL: both in one statement (UPDATE ... FROM; SQLite cannot return FROM columns).
CLAIM_WITH_JOB = (
    update(GradeRun)
    .where(
        _CLAIMABLE,
        Submission.id == GradeRun.submission_id,
        Assignment.id == Submission.assignment_id,
    )
    .values(_CLAIM_VALUES)
    .returning(*_RUN_COLUMNS, *_JOB_COLUMNS)
)
_HELD = and_(
    GradeRun.id == bindparam("p_run"),
    GradeRun.attempt == bindparam("p_attempt"),
    GradeRun.status == _RUNNING,
)
HEARTBEAT = (
    update(GradeRun)
    .where(_HELD)
    .values(
        lease_expires_at=bindparam("p_lease"),
        heartbeat_at=bindparam("p_now"),
        progress=bindparam("p_progress"),
    )
)
FINISH = (
    update(GradeRun)
    .where(_HELD)
    .values(
        status=RunStatus.DONE.value,
        finished_at=bindparam("p_now"),
        lease_expires_at=None,
        progress="done",
    )
)
STORE_REPORT = insert(GradeReport)
FAIL = (
    update(GradeRun)
    .where(_HELD)
    .values(
        status=RunStatus.ERROR.value,
        finished_at=bindparam("p_now"),
        lease_expires_at=None,
        error=bindparam("p_error"),
        progress="",
    )
)
RELEASE = (
    update(GradeRun)
    .where(_HELD)
    .values(
        status=_QUEUED,
        lease_expires_at=None,
        not_before=bindparam("p_not_before"),
        error=bindparam("p_error"),
        progress=bindparam("p_progress"),
    )
)
LOCK_USER = select(User.id).where(User.id == bindparam("p_user")).with_for_update()
_OF_STUDENT = and_(GradeRun.user_id == bindparam("p_user"), GradeRun.queue == bindparam("p_queue"))
_busy = aliased(GradeRun)
# The student's oldest ready runs, each row carrying how many of theirs are in the broker
# or running: one round trip for both (the caller keeps ``window - busy`` of them).
READY_WITH_BUSY = (
    select(
        GradeRun.id,
        Assignment.time_limit_s,
        select(func.count())
        .select_from(_busy)
        .where(
            _busy.user_id == bindparam("p_user"),
            _busy.queue == bindparam("p_queue"),
            _busy.status.in_([_DISPATCHED, _RUNNING]),
        )
        .scalar_subquery()
        .label("busy"),
    )
    .join(Submission, Submission.id == GradeRun.submission_id)
    .join(Assignment, Assignment.id == Submission.assignment_id)
    .where(_OF_STUDENT, GradeRun.status == _QUEUED, _READY)
    .order_by(GradeRun.id)
    .limit(bindparam("p_window"))
)
MARK_DISPATCHED = (
    update(GradeRun)
    .where(GradeRun.id == bindparam("p_run"), GradeRun.status == _QUEUED)
    .values(status=_DISPATCHED, dispatched_at=bindparam("p_now"))
)
# Students with a ready run and room in their window, longest-waiting first (the reaper's
# pass; during a rush most students have none, and need no transaction of their own).
_IS_READY = and_(GradeRun.status == _QUEUED, _READY)
_IS_BUSY = GradeRun.status.in_([_DISPATCHED, _RUNNING])
WITH_ROOM = (
    select(GradeRun.user_id, GradeRun.queue)
    .where(GradeRun.status.in_([_QUEUED, _DISPATCHED, _RUNNING]))
    .group_by(GradeRun.user_id, GradeRun.queue)
    .having(func.sum(case((_IS_READY, 1), else_=0)) > 0)
    .having(func.sum(case((_IS_BUSY, 1), else_=0)) < bindparam("p_window"))
    .order_by(func.min(case((_IS_READY, GradeRun.id))))
)


class GradeQueue:
    """The runs of one database, with the settings that bound them."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = get_engine(settings.database_url)
        self.Session = session_factory(settings.database_url)
        dialect = self.engine.dialect.name
        self.postgres = dialect == "postgresql"
        # SQLite's BEGIN IMMEDIATE (worker.db) serialises writers: no row locks needed.
        self.row_locks = dialect != "sqlite"

    # -- helpers -------------------------------------------------------------------------

    def _lease_until(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.settings.lease_seconds)

    def _lock_user(self, s: Session | Connection, user_id: int) -> None:
        """Serialise decisions about one student (SQLite's BEGIN IMMEDIATE already does)."""
        if self.row_locks:
            s.execute(LOCK_USER, {"p_user": user_id})

    @contextmanager
    def _one_statement(self) -> Iterator[Connection]:
        """A connection for a statement that is a transaction by itself.

        Autocommit where the database has it (no BEGIN and COMMIT round trips);
        on SQLite a transaction, so that it takes the write lock up front like
        every other (see ``worker.db``).
        """
        if self.row_locks:
            with self.engine.connect() as conn:
                yield conn.execution_options(isolation_level="AUTOCOMMIT")
        else:
            with self.engine.begin() as conn:
                yield conn

    @staticmethod
    def _held(claim: Claim) -> dict[str, int]:
        return {"p_run": claim.run_id, "p_attempt": claim.attempt}

    # -- a worker's side -------------------------------------------------------------------

    def claim(self, run_id: int, worker: str) -> Claim | None:
        """Take the run if nobody holds it; None when it is done, held, or backing off."""
        now = utcnow()
        params = {
            "p_run": run_id,
            "p_now": now,
            "p_worker": worker[:200],
            "p_lease": self._lease_until(now),
        }
        if self.postgres:
            with self._one_statement() as conn:
                row = job = conn.execute(CLAIM_WITH_JOB, params).first()
        else:
            with self.engine.begin() as conn:
                row = conn.execute(CLAIM, params).first()
                job = None
                if row is not None:
                    job = conn.execute(JOB, {"p_submission": row.submission_id}).one()
        if row is None or job is None:
            return None
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
        params = {
            **self._held(claim),
            "p_now": now,
            "p_lease": self._lease_until(now),
            "p_progress": progress[:200],
        }
        with self._one_statement() as conn:
            return conn.execute(HEARTBEAT, params).rowcount == 1

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
            with self.engine.begin() as conn:
                done = conn.execute(FINISH, {**self._held(claim), "p_now": now})
                if done.rowcount != 1:
                    raise _LeaseLost
                conn.execute(
                    STORE_REPORT,
                    {
                        "run_id": claim.run_id,
                        "submission_id": claim.submission_id,
                        "status": str(report["status"]),
                        "score": float(report["score"]),
                        "max_score": float(report["max_score"]),
                        "report": report,
                        "manifest_hash": manifest_hash,
                        "worker": claim.worker[:200],
                        "created_at": now,
                    },
                )
                if publish is not None:
                    try:
                        with conn.begin_nested():
                            self._dispatch_in(conn, claim.user_id, claim.queue, publish, now)
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
        params = {**self._held(claim), "p_now": utcnow(), "p_error": message}
        with self._one_statement() as conn:
            return conn.execute(FAIL, params).rowcount == 1

    def release(self, claim: Claim, message: str, delay_s: float) -> bool:
        """Put the run back in the queue after an infrastructure failure, not before ``delay_s``."""
        params = {
            **self._held(claim),
            "p_not_before": utcnow() + timedelta(seconds=delay_s),
            "p_error": message,
            "p_progress": f"retrying in {delay_s:.0f}s",
        }
        with self._one_statement() as conn:
            return conn.execute(RELEASE, params).rowcount == 1

    def backoff(self, attempt: int) -> float:
        """Seconds to wait before attempt ``attempt + 1`` after an infrastructure failure."""
        s = self.settings
        return min(s.retry_backoff_max, s.retry_backoff * 2 ** max(0, attempt - 1))

    # -- dispatch (fairness) ---------------------------------------------------------------

    def dispatch(self, user_id: int, queue: str, publish: Publish) -> list[int]:
        """Send the student's oldest ready runs on ``queue`` while their window has room."""
        with self.engine.begin() as conn:
            return self._dispatch_in(conn, user_id, queue, publish, utcnow())

    def _dispatch_in(
        self, conn: Connection, user_id: int, queue: str, publish: Publish, now: datetime
    ) -> list[int]:
        sent: list[int] = []
        self._lock_user(conn, user_id)
        window = self.settings.dispatch_per_student
        ready = conn.execute(
            READY_WITH_BUSY,
            {"p_user": user_id, "p_queue": queue, "p_now": now, "p_window": max(0, window)},
        ).all()
        if not ready:
            return sent
        room = window - int(ready[0].busy or 0)
        for run_id, time_limit, _ in ready[: max(0, room)]:
            marked = conn.execute(MARK_DISPATCHED, {"p_run": run_id, "p_now": now})
            if marked.rowcount == 1:
                # Published before the commit: if publishing fails the run stays
                # queued; if the commit fails, a worker may claim a queued run.
                publish(run_id, queue, float(time_limit))
                sent.append(run_id)
        return sent

    def dispatch_ready(self, publish: Publish) -> list[int]:
        """Dispatch for every student with ready runs and room, longest-waiting first."""
        params = {"p_now": utcnow(), "p_window": self.settings.dispatch_per_student}
        with self.engine.connect() as conn:
            pairs = conn.execute(WITH_ROOM, params).all()
        sent: list[int] = []
        for user_id, queue in pairs:
            sent += self.dispatch(user_id, queue, publish)
        return sent

    # -- the reaper's side ----------------------------------------------------------------

    def expired(self) -> list[Expired]:
        """Running runs whose lease ran out: their worker stopped heartbeating."""
        now = utcnow()
        with self.engine.connect() as conn:
            rows = conn.execute(
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
        with self.engine.begin() as conn:
            changed = conn.execute(stmt).rowcount == 1
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
        with self.engine.begin() as conn:
            return int(conn.execute(stmt).rowcount or 0)


def _ids(claim: Claim) -> tuple[int, int]:
    return claim.run_id, claim.attempt
