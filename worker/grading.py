"""One grading, from a run id to a stored report: claim, stage, grade with a heartbeat, finish.

Nothing here knows Celery; ``worker.tasks`` wraps ``execute_run`` in a task.

Outcomes and what they mean for the run:

- the run is done, held by a live worker, or backing off: ``skipped`` (a
  redelivered or duplicate message; nothing happens),
- the engine produced a verdict (whatever the student's code did: wrong,
  crashed, timed out, ran out of memory): ``graded``, one report,
- the engine could not finish through no fault of the student (sandbox could
  not start, a check's own error, a host error): ``retry``, the run goes back
  to the queue with a growing delay; the last allowed attempt stores its report
  as it is (``error`` to the student's eye),
- the assignment itself cannot be loaded, or the attempts ran out: ``error``,
- the lease was lost meanwhile (the reaper gave the run to another worker):
  ``lost``, the report is discarded.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from grader.assignment import Assignment as AssignmentSpec
from grader.assignment import load_assignment
from grader.messages import GradeReport, ReportStatus
from worker.assignment_store import local_folder
from worker.config import Settings
from worker.db import is_unavailable, with_retry
from worker.logs import about_submission
from worker.runs import Claim, GradeQueue, Publish, staged_name
from worker.storage import load_blob

log = logging.getLogger(__name__)

CLAIM_DB_WAIT_S = 2.0


def worker_name() -> str:
    """Who holds a claim: host and process (a pool process, not the whole worker)."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Heartbeat:
    """Extends the run's lease while the engine grades, and writes its progress.

    Never raises into the grading: a database that is briefly away costs a few
    missed beats, which the lease absorbs. The first beat comes ``TICK_S`` after
    ``start``, so a grading shorter than that writes nothing. One thread per
    process serves every heartbeat in it (see ``_Beater``).
    """

    TICK_S = 0.5
    STOP_WAIT_S = 10.0

    def __init__(self, grade_queue: GradeQueue, claim: Claim) -> None:
        self.grade_queue = grade_queue
        self.claim = claim
        self.progress = "starting"
        self.lost = False
        self._written = ""
        self._started = self._last = time.monotonic()
        self._stopped = False
        self._beating = threading.Lock()

    def on_progress(self, k: int, n: int, text: str) -> None:
        self.progress = f"check {k}/{n}: {text}" if text else f"check {k}/{n}"

    def start(self) -> None:
        self._started = self._last = time.monotonic()
        _beater().add(self)

    def stop(self) -> None:
        """No new beat after this; one in flight is waited for (up to ``STOP_WAIT_S``)."""
        waited = self._beating.acquire(timeout=self.STOP_WAIT_S)
        self._stopped = True
        if waited:
            self._beating.release()
        _beater().discard(self)

    def beat(self) -> bool:
        """Write the lease and progress if due; False once this heartbeat is over."""
        with self._beating:
            if self._stopped:
                return False
            now = time.monotonic()
            progress = self.progress
            if now - self._started < self.TICK_S:
                return True
            every = self.grade_queue.settings.heartbeat_seconds
            if progress == self._written and now - self._last < every:
                return True
            try:
                ok = self.grade_queue.heartbeat(self.claim, progress)
            except Exception as err:
                level = logging.WARNING if is_unavailable(err) else logging.ERROR
                log.log(level, "heartbeat of run %s failed: %s", self.claim.run_id, err)
                return True
            if not ok:
                self.lost = True
                log.warning("run %s attempt %s is no longer ours", *_ids(self.claim))
                return False
            self._written, self._last = progress, time.monotonic()
            return True


class _Beater(threading.Thread):
    """The process's heartbeat thread: beats every live ``Heartbeat`` each tick.

    Started once per process and kept: a thread started and joined per grading
    costs two wake-ups on cores the gradings keep busy, more than a short
    grading's own database work.
    """

    def __init__(self) -> None:
        super().__init__(name="dlgrade-heartbeat", daemon=True)
        self._beats: set[Heartbeat] = set()
        self._lock = threading.Lock()

    def add(self, beat: Heartbeat) -> None:
        with self._lock:
            self._beats.add(beat)

    def discard(self, beat: Heartbeat) -> None:
        with self._lock:
            self._beats.discard(beat)

    def run(self) -> None:
        while True:
            time.sleep(Heartbeat.TICK_S)
            with self._lock:
                beats = list(self._beats)
            for beat in beats:
                try:
                    if not beat.beat():
                        self.discard(beat)
                except Exception:  # a bug in one beat must not silence the others
                    log.exception("heartbeat of run %s failed", beat.claim.run_id)


_beater_thread: _Beater | None = None
_beater_pid = 0
_beater_lock = threading.Lock()


def _beater() -> _Beater:
    """This process's heartbeat thread, started on first use.

    Threads do not survive a fork (a Celery pool process is one), so a child
    starts its own; noticed here, not in an ``os.register_at_fork`` hook, which
    would also run in every sandbox start between its fork and its exec.
    """
    global _beater_thread, _beater_pid, _beater_lock
    if _beater_pid != os.getpid():
        _beater_thread, _beater_pid, _beater_lock = None, os.getpid(), threading.Lock()
    with _beater_lock:
        if _beater_thread is None or not _beater_thread.is_alive():
            _beater_thread = _Beater()
            _beater_thread.start()
        return _beater_thread


_cache: dict[str, tuple[tuple[int, int], AssignmentSpec]] = {}


def load_cached(path: str) -> AssignmentSpec:
    """The assignment at ``path``, imported once per process while its files are unchanged."""
    root = Path(path)
    stamp = tuple((root / name).stat().st_mtime_ns for name in ("assignment.toml", "checks.py"))
    hit = _cache.get(path)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    spec = load_assignment(root)
    _cache[path] = (stamp, spec)  # type: ignore[assignment]
    return spec


def _stage(grade_queue: GradeQueue, claim: Claim, work: Path) -> Path:
    """Copy the stored upload out of the database, named after the run and attempt (see
    ``staged_name``): a worker on any host needs only the database, no shared disk."""
    name = staged_name(claim.run_id, claim.attempt, claim.filename)
    if name.endswith((".py", ".zip")):
        dest = work / name
    else:
        (work / name).mkdir()
        dest = work / name / Path(claim.filename).name
    with grade_queue.engine.connect() as conn:
        dest.write_bytes(load_blob(conn, claim.sha256))
    return work / name


@dataclass(frozen=True)
class Graded:
    report: GradeReport
    manifest_hash: str  # of the checks that actually graded it
    engine_seconds: float


def ensure_pool(settings: Settings) -> None:
    """This process's warm pool of sandboxes of the kind it grades in, installed once:
    Docker containers (``docker_pool``), or bubblewrap sandboxes (``local_pool``).

    Per process: a Celery pool process grades in its own, so each keeps its own
    pool (its thread would not survive a fork).
    """
    from grader.sandbox import default_kind, pool

    kind = settings.sandbox or default_kind()
    size = {"docker": settings.docker_pool, "local": settings.local_pool}.get(kind, 0)
    if size <= 0 or pool.installed(kind) is not None:
        return
    if kind == "docker":
        pool.install(pool.ContainerPool(size=size), kind)
    else:
        from grader.sandbox.local_pool import LocalPool

        pool.install(LocalPool(size=size), kind)


def close_pool() -> None:
    """End this process's waiting sandboxes (at the end of a worker process)."""
    from grader.sandbox import pool

    for kind in ("docker", "local"):
        warm = pool.installed(kind)
        if warm is not None:
            pool.install(None, kind)
            warm.close()


def _grade(settings: Settings, grade_queue: GradeQueue, claim: Claim) -> Graded | str:
    """The engine's report, or an error message when the assignment is unusable (no retry)."""
    from grader.engine import grade

    ensure_pool(settings)

    try:
        # The folder where this host can read it, else its uploaded archive from the database.
        spec = load_cached(
            local_folder(grade_queue.engine, settings.data_dir, claim.assignment_path)
        )
    except OSError:
        raise  # the folder may be back soon (a network file system): retried
    except Exception as err:
        # AssignmentError or checks.py raising on import: the instructor's to fix.
        where = claim.assignment_path
        return f"the assignment at {where} cannot be loaded: {type(err).__name__}: {err}"
    if spec.manifest_hash != claim.manifest_hash:
        log.warning(
            "assignment %s changed since run %s was submitted; grading with the current checks",
            claim.slug,
            claim.run_id,
        )
    work = Path(tempfile.mkdtemp(prefix=f"dlgrade-run-{claim.run_id}-"))
    beat = Heartbeat(grade_queue, claim)
    beat.start()
    try:
        staged = _stage(grade_queue, claim, work)
        t0 = time.monotonic()
        report = grade(
            spec,
            staged,
            sandbox=settings.sandbox,
            seed=claim.submission_id,
            on_progress=beat.on_progress,
            # A run from the gpu queue is graded as a GPU worker grades (the sandbox gets
            # the GPU); from cpu, as a CPU worker: CUDA mapped, and the report says so.
            gpu=claim.queue == "gpu",
        )
    finally:
        beat.stop()
        shutil.rmtree(work, ignore_errors=True)
    return Graded(report, spec.manifest_hash, time.monotonic() - t0)


def _is_platform_fault(report: GradeReport) -> bool:
    return report.status == ReportStatus.PLATFORM_ERROR


def execute_run(run_id: int, settings: Settings, publish: Publish | None) -> str:
    """Grade run ``run_id`` at most once; return the outcome (see the module's docstring).

    Raises DatabaseUnavailable when the database stayed away longer than
    ``settings.db_wait`` (the caller retries the message later).
    """
    started = time.monotonic()
    grade_queue = GradeQueue(settings)
    me = worker_name()
    # Brief: nothing is held yet, so a longer outage is better waited out in the broker
    # (the task retries with a countdown) than in a pool process.
    claim = with_retry(
        lambda: grade_queue.claim(run_id, me), budget_s=CLAIM_DB_WAIT_S, what="claim"
    )
    if claim is None:
        return "skipped"
    with about_submission(claim.submission_id, claim.run_id):
        return _execute_claimed(claim, grade_queue, settings, publish, started)


def _execute_claimed(
    claim: Claim,
    grade_queue: GradeQueue,
    settings: Settings,
    publish: Publish | None,
    started: float,
) -> str:
    run_id = claim.run_id

    def persist(step, what: str):  # type: ignore[no-untyped-def]
        return with_retry(step, budget_s=settings.db_wait, what=what)

    if claim.attempt > settings.max_attempts:
        persist(
            lambda: grade_queue.fail(
                claim,
                f"gave up after {claim.attempt - 1} attempts; last: {claim.previous_error}",
            ),
            "give up",
        )
        outcome = "error"
    else:
        try:
            result: Graded | str = _grade(settings, grade_queue, claim)
        except Exception as err:
            # The engine reports student faults itself; an exception is ours (disk, a bug).
            log.exception("grading run %s raised", run_id)
            result = f"the grader failed: {type(err).__name__}: {err}"
            if claim.attempt < settings.max_attempts:
                delay = grade_queue.backoff(claim.attempt)
                persist(lambda: grade_queue.release(claim, result, delay), "release")  # type: ignore[arg-type]
                return _after(grade_queue, claim, publish, "retry", started)
        if isinstance(result, str):
            persist(lambda: grade_queue.fail(claim, result), "fail")  # type: ignore[arg-type]
            outcome = "error"
        else:
            report, manifest_hash = result.report, result.manifest_hash
            if _is_platform_fault(report) and claim.attempt < settings.max_attempts:
                delay = grade_queue.backoff(claim.attempt)
                message = f"attempt {claim.attempt}: {report.message or 'platform error'}"
                persist(lambda: grade_queue.release(claim, message, delay), "release")
                outcome = "retry"
            else:
                stored = persist(
                    lambda: grade_queue.finish(claim, report.to_dict(), manifest_hash, publish),
                    "store the report",
                )
                outcome = (
                    ("error" if _is_platform_fault(report) else "graded") if stored else "lost"
                )
                # finish has dispatched the student's next run in its own transaction
                return _after(grade_queue, claim, None, outcome, started, result.engine_seconds)
    return _after(grade_queue, claim, publish, outcome, started)


def _after(
    grade_queue: GradeQueue,
    claim: Claim,
    publish: Publish | None,
    outcome: str,
    started: float | None = None,
    engine_s: float | None = None,
) -> str:
    """The student's window has room again: dispatch their next run (the reaper would, later)."""
    if publish is not None:
        try:
            grade_queue.dispatch(claim.user_id, claim.queue, publish)
        except Exception as err:
            log.warning("could not dispatch after run %s: %s", claim.run_id, err)
    took = f" in {time.monotonic() - started:.3f}s" if started else ""
    inner = f" (engine {engine_s:.3f}s)" if engine_s is not None else ""
    log.info("run %s attempt %s: %s%s%s", claim.run_id, claim.attempt, outcome, took, inner)
    return outcome


def _ids(claim: Claim) -> tuple[int, int]:
    return claim.run_id, claim.attempt
