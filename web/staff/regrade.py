"""Regrading: a new run for a submission, through the worker's own queue; the old reports stay.

A regrade is one more ``GradeRun`` of the same (immutable) submission, marked
``requested_by`` the staff member and, for a whole assignment, with a
``batch`` id that the progress bar counts. It waits as ``queued`` and is sent
by the worker's fairness dispatch (``GradeQueue.dispatch``): regrading 300
submissions never lets one student's ten monopolise the workers, and with no
broker the reaper sends them later. The worker grades with the assignment's
checks as they are now (that is the point of a regrade after a fix). Its report
becomes the submission's newest; the earlier ones are kept, and a staff
override, which belongs to the submission, stays in force.

A submission that already has a run queued or running is not given a second
one: the one in flight will grade it with the same checks.

Each run goes where a new submission would go now (``worker.routing``): the
course's queue setting for the assignment, its manifest's CPU fallback, and
whether this deployment has GPU workers.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import insert, select

from worker.config import Settings
from worker.models import IN_FLIGHT, Assignment, GradeRun, RunStatus, Submission, utcnow
from worker.routing import Preference, Route, preference_of, route
from worker.runs import GradeQueue, Publish

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Requested:
    batch: str | None
    run_ids: list[int]
    skipped: int  # already being graded
    note: str = ""


def new_batch_id() -> str:
    return uuid.uuid4().hex[:16]


def _route(settings: Settings, folder: str, queue: str) -> Route:
    """Where a regrade of a submission to the assignment at ``folder`` goes (``queue``: the
    course's setting)."""
    try:
        prefers = preference_of(folder)
    except (OSError, ValueError):
        # The folder is gone or unreadable: the worker will say so in the run's report;
        # the course's queue is all there is to go by.
        prefers = Preference(queue)
    return route(prefers, settings, queue=queue)


def request_regrades(
    settings: Settings,
    publish: Publish | None,
    submission_ids: Iterable[int],
    requested_by: int,
    batch: str | None = None,
) -> Requested:
    """Queue a run for each submission not already in flight, then dispatch fairly."""
    ids = sorted(set(submission_ids))
    grade_queue = GradeQueue(settings)
    now = utcnow()
    made: list[tuple[int, int, str]] = []  # (run id, user id, queue)
    with grade_queue.engine.begin() as conn:
        busy = set(
            conn.scalars(
                select(GradeRun.submission_id).where(
                    GradeRun.submission_id.in_(ids),
                    GradeRun.status.in_([s.value for s in IN_FLIGHT]),
                )
            )
        )
        todo = conn.execute(
            select(Submission.id, Submission.user_id, Assignment.path, Assignment.queue)
            .join(Assignment, Assignment.id == Submission.assignment_id)
            .where(Submission.id.in_([i for i in ids if i not in busy]))
            .order_by(Submission.id)
        ).all()
        routes = {key: _route(settings, *key) for key in {(r.path, r.queue) for r in todo}}
        for sub_id, user_id, path, wanted in todo:
            queue = routes[path, wanted].queue
            run_id = conn.scalar(
                insert(GradeRun)
                .values(
                    submission_id=sub_id,
                    user_id=user_id,
                    queue=queue,
                    status=RunStatus.QUEUED.value,
                    created_at=now,
                    requested_by=requested_by,
                    batch=batch,
                )
                .returning(GradeRun.id)
            )
            made.append((int(run_id), user_id, queue))
    note = routed = "; ".join(sorted({r.note for r in routes.values() if r.note}))
    if publish is None:
        note = "; ".join(n for n in (routed, "queued; a worker will pick them up") if n)
    else:
        for user_id, queue in sorted({(u, q) for _, u, q in made}):
            try:
                grade_queue.dispatch(user_id, queue, publish)
            except Exception as err:  # the runs are safe in the database; the reaper sends them
                log.warning("could not dispatch regrades of user %s now: %s", user_id, err)
                broker = f"queued; the broker did not answer ({type(err).__name__})"
                note = "; ".join(n for n in (routed, broker) if n)
    return Requested(batch, [r for r, _, _ in made], len(busy & set(ids)), note)


@dataclass(frozen=True)
class BatchProgress:
    batch: str
    total: int
    queued: int
    running: int
    done: int
    error: int

    @property
    def finished(self) -> int:
        return self.done + self.error

    @property
    def complete(self) -> bool:
        return self.finished == self.total

    @property
    def percent(self) -> int:
        return 100 if not self.total else int(100 * self.finished / self.total)


def batch_progress(conn_or_session, batch: str) -> BatchProgress:  # type: ignore[no-untyped-def]
    """How far a regrade batch has come, from its runs' states (one query)."""
    states = Counter(
        conn_or_session.scalars(select(GradeRun.status).where(GradeRun.batch == batch)).all()
    )
    waiting = states[RunStatus.QUEUED.value] + states[RunStatus.DISPATCHED.value]
    return BatchProgress(
        batch,
        sum(states.values()),
        waiting,
        states[RunStatus.RUNNING.value],
        states[RunStatus.DONE.value],
        states[RunStatus.ERROR.value],
    )
