"""The heartbeat: one thread per process, silent for short gradings, quiet after stop.

Against SQLite and PostgreSQL (the lease lives in the run's row). Leases are
short here (5 s, beats every 1.25 s); the tick is the heartbeat's own 0.5 s.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import update

from grader.assignment import load_assignment
from tests.worker.conftest import SUBMISSIONS, TINY, wait_until
from worker import grading
from worker.config import Settings
from worker.grading import Heartbeat
from worker.models import GradeRun, utcnow
from worker.runs import Claim, GradeQueue
from worker.submit import submit


@pytest.fixture(scope="module")
def tiny():
    return load_assignment(TINY)


def _claimed(settings: Settings, tiny, worker: str = "w1") -> tuple[GradeQueue, Claim]:  # type: ignore[no-untyped-def]
    q = GradeQueue(settings)
    acc = submit(tiny, SUBMISSIONS / "good.py", "alice", settings, publish=None)
    claim = q.claim(acc.run_id, worker)
    assert claim is not None
    return q, claim


def _row(q: GradeQueue, run_id: int) -> GradeRun:
    with q.Session() as s:
        run = s.get(GradeRun, run_id)
        assert run is not None
        return run


def _heartbeat_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "dlgrade-heartbeat"]


def test_a_grading_shorter_than_a_tick_writes_nothing(settings: Settings, tiny) -> None:
    q, claim = _claimed(settings, tiny)
    claimed_at = _row(q, claim.run_id).heartbeat_at
    beat = Heartbeat(q, claim)
    beat.on_progress(1, 2, "add")
    assert beat.beat(), "a beat that is not due yet keeps the heartbeat alive"
    assert _row(q, claim.run_id).progress == "starting", "not due within a tick of start"
    beat.start()
    time.sleep(Heartbeat.TICK_S / 5)
    beat.stop()
    assert not beat.beat(), "a stopped heartbeat is over"
    time.sleep(2 * Heartbeat.TICK_S)  # a beat due after stop would land here
    run = _row(q, claim.run_id)
    assert (run.progress, run.heartbeat_at) == ("starting", claimed_at)


def test_beats_write_progress_and_extend_the_lease_until_stopped(settings: Settings, tiny) -> None:
    q, claim = _claimed(settings, tiny)
    first_lease = _row(q, claim.run_id).lease_expires_at
    assert first_lease is not None
    beat = Heartbeat(q, claim)
    beat.start()
    try:
        beat.on_progress(1, 2, "add")
        wait_until(lambda: _row(q, claim.run_id).progress == "check 1/2: add", 5, "a beat")
        assert _row(q, claim.run_id).lease_expires_at > first_lease
        beat.on_progress(2, 2, "")
        wait_until(lambda: _row(q, claim.run_id).progress == "check 2/2", 5, "the next beat")
    finally:
        beat.stop()
    stopped = _row(q, claim.run_id)
    beat.on_progress(2, 2, "after stop")
    time.sleep(3 * Heartbeat.TICK_S)
    run = _row(q, claim.run_id)
    assert (run.progress, run.heartbeat_at) == (stopped.progress, stopped.heartbeat_at)
    assert not beat.lost


def test_a_heartbeat_that_lost_its_lease_says_so_and_stops(settings: Settings, tiny) -> None:
    q, claim = _claimed(settings, tiny)
    beat = Heartbeat(q, claim)
    beat.start()
    try:
        with q.Session() as s, s.begin():
            s.execute(
                update(GradeRun)
                .where(GradeRun.id == claim.run_id)
                .values(lease_expires_at=utcnow() - timedelta(seconds=1))
            )
        assert q.claim(claim.run_id, "w2") is not None, "the reaper's view: taken over"
        beat.on_progress(1, 2, "add")
        wait_until(lambda: beat.lost, 5, "the heartbeat to notice")
        assert _row(q, claim.run_id).progress == "starting", "the new holder's row is untouched"
    finally:
        beat.stop()


def test_one_thread_serves_every_heartbeat_of_a_process(settings: Settings, tiny) -> None:
    q, claim = _claimed(settings, tiny)
    for _ in range(5):
        beat = Heartbeat(q, claim)
        beat.start()
        beat.stop()
    assert len(_heartbeat_threads()) == 1
    assert _heartbeat_threads()[0].is_alive()


def test_a_forked_child_starts_a_heartbeat_thread_of_its_own(settings: Settings, tiny) -> None:
    q, claim = _claimed(settings, tiny)
    beat = Heartbeat(q, claim)
    beat.start()
    beat.stop()
    parents = grading._beater()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 0
        try:
            os.close(read)
            mine = grading._beater()
            os.write(write, b"1" if mine is not parents and mine.is_alive() else b"0")
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        answer = pipe.read()
    os.waitpid(pid, 0)
    assert answer == b"1"
    assert grading._beater() is parents
