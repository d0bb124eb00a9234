"""Real worker processes (``dlgrade worker``) against real Redis, PostgreSQL and SQLite.

What each test proves:

- the embedded default (SQLite database, SQLite broker) works through the
  command line a user types: submit, worker, status, a refused submission;
- kill -9 of a worker in the middle of grading: its sandbox dies with it, and
  the submission is graded exactly once, by another worker;
- a submission that sleeps forever ends as a timeout verdict and the worker
  takes the next job;
- Redis killed and restarted with jobs queued: nothing lost (append-only file);
- the database away for a few seconds while workers grade: nothing lost,
  nothing graded twice.

Leases are short here (3 s) so that a dead worker is noticed quickly.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from grader.assignment import load_assignment
from grader.config import REPO_ROOT
from tests.worker.conftest import (
    SUBMISSIONS,
    TINY,
    RedisServer,
    alive,
    dlgrade_command,
    fresh_sqlite,
    wait_until,
    worker_env,
)
from worker.app import publisher
from worker.config import Settings, default_broker_url
from worker.migrate import head
from worker.status import submission_status
from worker.submit import submit

pytestmark = [pytest.mark.services, pytest.mark.slow]

FAST = {"lease_seconds": 3.0, "reaper_interval": 0.5, "retry_backoff": 1.0}


@pytest.fixture(scope="module")
def tiny():
    return load_assignment(TINY)


def _status(settings: Settings, sub_id: int) -> dict:
    info = submission_status(settings, sub_id)
    assert info is not None
    return info


def _all_graded(settings: Settings, ids: list[int]) -> bool:
    return all(_status(settings, i)["status"] in ("graded", "error") for i in ids)


def _cli(settings: Settings, *args: str, **env: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*dlgrade_command(), *args],
        env=worker_env(settings, **env),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_embedded_default_through_the_command_line(
    tmp_path: Path, data_dir: Path, start_worker
) -> None:
    """No server at all: SQLite for the data, the SQLite broker for messages, as a user types it."""
    settings = Settings(
        database_url=f"sqlite:///{data_dir / 'dlgrade.sqlite'}",
        broker_url=default_broker_url(data_dir),
        data_dir=data_dir,
        sandbox="local",
        rate_limit="2/3600",
        **FAST,
    )
    up = _cli(settings, "db", "upgrade")
    assert up.returncode == 0 and f"at revision {head()}" in up.stdout, up.stderr
    ids = {}
    for student, name in (("alice", "good.py"), ("bob", "wrong.py"), ("alice", "slow.py")):
        done = _cli(settings, "submit", str(TINY), str(SUBMISSIONS / name), "--student", student)
        assert done.returncode == 0, done.stderr
        ids[name] = int(done.stdout.strip().splitlines()[-1])
    refused = _cli(
        settings, "submit", str(TINY), str(SUBMISSIONS / "good.py"), "--student", "alice"
    )
    assert refused.returncode == 3 and "2 times" in refused.stderr
    assert refused.stdout == ""

    start_worker(settings, concurrency=2)

    def status(sub_id: int) -> dict:
        out = _cli(settings, "status", str(sub_id), "--json")
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    wait_until(lambda: _all_graded(settings, list(ids.values())), 60, "three gradings")
    good, wrong, slow = (status(ids[n]) for n in ("good.py", "wrong.py", "slow.py"))
    for info in (good, wrong, slow):
        assert {"id", "status", "score", "max_score", "attempts", "reports", "progress"} <= set(
            info
        )
        assert (info["status"], info["attempts"], info["reports"]) == ("graded", 1, 1)
    assert (good["score"], good["max_score"]) == (3.0, 3.0)
    assert (wrong["score"], slow["score"]) == (2.0, 3.0)


def test_kill_9_mid_grading_is_graded_once_by_another_worker(
    db_url: str, data_dir: Path, redis_url: str, start_worker, tiny
) -> None:
    settings = Settings(
        database_url=db_url, broker_url=redis_url, data_dir=data_dir, sandbox="local", **FAST
    )
    first = start_worker(settings)
    acc = submit(tiny, SUBMISSIONS / "slow.py", "alice", settings, publisher(settings))

    seen: list[str] = []

    def grading() -> bool:
        info = _status(settings, acc.submission_id)
        seen.append(info["progress"])
        return info["status"] == "running" and info["progress"].startswith("check 1/2")

    wait_until(grading, 30, "the first worker to be grading", every=0.05)
    time.sleep(0.3)  # the sandbox is up and the student's code is running
    held_by = _status(settings, acc.submission_id)["worker"]
    doomed = first.tree()
    assert len(doomed) >= 3, "worker, pool process and sandbox"
    first.kill9()
    wait_until(lambda: not any(alive(p) for p in doomed), 10, "the killed worker's sandbox to die")

    second = start_worker(settings)
    wait_until(lambda: _all_graded(settings, [acc.submission_id]), 60, "the regrading")
    info = _status(settings, acc.submission_id)
    assert (info["status"], info["reports"], info["attempts"]) == ("graded", 1, 2)
    assert info["score"] == info["max_score"] == 3.0
    assert info["worker"] != held_by
    assert int(info["worker"].rsplit(":", 1)[1]) in second.tree()
    assert "lease of attempt 1 expired" in second.text()
    assert any(p.startswith("check 1/2: add") for p in seen)


def test_a_submission_that_sleeps_forever_times_out_and_the_next_job_runs(
    tmp_path: Path, data_dir: Path, redis_url: str, start_worker, tiny
) -> None:
    settings = Settings(
        database_url=fresh_sqlite(tmp_path),
        broker_url=redis_url,
        data_dir=data_dir,
        sandbox="local",
        **FAST,
    )
    start_worker(settings)
    publish = publisher(settings)
    forever = submit(tiny, SUBMISSIONS / "forever.py", "alice", settings, publish)
    good = submit(tiny, SUBMISSIONS / "good.py", "bob", settings, publish)
    ids = [forever.submission_id, good.submission_id]
    wait_until(lambda: _all_graded(settings, ids), 60, "both gradings")
    hung, fine = (_status(settings, i) for i in ids)
    assert (hung["status"], hung["score"], hung["attempts"], hung["reports"]) == (
        "graded",
        0.0,
        1,
        1,
    )
    assert [c["status"] for c in hung["report"]["checks"]] == ["timeout", "timeout"]
    assert (fine["status"], fine["score"], fine["reports"]) == ("graded", 3.0, 1)


def test_redis_restarted_with_jobs_queued_loses_nothing(
    tmp_path: Path, data_dir: Path, private_redis: RedisServer, start_worker, tiny
) -> None:
    # No redispatch from the database here: every message must come back from Redis itself.
    settings = Settings(
        database_url=fresh_sqlite(tmp_path),
        broker_url=private_redis.url,
        data_dir=data_dir,
        sandbox="local",
        redispatch_after=3600,
        **FAST,
    )
    publish = publisher(settings)
    names = ["good.py", "wrong.py", "slow.py", "good.py"]
    ids = [
        submit(tiny, SUBMISSIONS / n, s, settings, publish).submission_id
        for n, s in zip(names, ["alice", "alice", "bob", "bob"], strict=True)
    ]
    assert private_redis.client().llen("cpu") == 4
    private_redis.kill()  # kill -9: no chance to save anything on the way out
    private_redis.start()
    assert private_redis.client().llen("cpu") == 4, "the append-only file brought them back"

    worker = start_worker(settings)
    wait_until(lambda: _status(settings, ids[2])["status"] == "running", 30, "slow.py to start")
    private_redis.kill()  # again, while a job runs and others wait
    time.sleep(1.0)
    private_redis.start()
    wait_until(lambda: _all_graded(settings, ids), 90, "all four gradings")
    scores = [_status(settings, i)["score"] for i in ids]
    assert scores == [3.0, 2.0, 3.0, 3.0]
    assert all(_status(settings, i)["reports"] == 1 for i in ids)
    assert worker.proc.poll() is None, "the worker survived the broker's restarts"


class FlakyProxy:
    """A TCP proxy to PostgreSQL that can go dark: refuses connections and cuts live ones."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.up = threading.Event()
        self.up.set()
        self.conns: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up.is_set():
                client.close()
                continue
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.conns += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.close()

    def down(self) -> None:
        self.up.clear()
        with self.lock:
            conns, self.conns = self.conns, []
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass

    def restore(self) -> None:
        self.up.set()

    def close(self) -> None:
        self.down()
        self.listener.close()


def test_database_away_for_seconds_loses_nothing(
    postgres_base: str, data_dir: Path, redis_url: str, start_worker, tiny
) -> None:
    """Twice away: when messages arrive (claims retry through the broker), and mid-grading."""
    from sqlalchemy.engine import make_url

    from tests.worker.conftest import empty_postgres

    empty_postgres(postgres_base)
    real = make_url(postgres_base)
    proxy = FlakyProxy((real.host or "127.0.0.1", real.port or 5432))
    through_proxy = real.set(host="127.0.0.1", port=proxy.port).render_as_string(
        hide_password=False
    )
    # The test itself talks to the database directly; only the worker goes through the proxy.
    direct = Settings(
        database_url=postgres_base,
        broker_url=redis_url,
        data_dir=data_dir,
        sandbox="local",
        **FAST,
    )
    try:
        worker = start_worker(direct.with_(database_url=through_proxy))
        publish = publisher(direct)
        proxy.down()
        ids = [
            submit(tiny, SUBMISSIONS / n, s, direct, publish).submission_id
            for s in ("alice", "bob", "carol")
            for n in ("slow.py", "good.py")
        ]
        wait_until(
            lambda: "database unavailable, retrying in" in worker.text(),
            30,
            "a task to go back to the broker",
        )
        proxy.restore()
        # A slow one (2.4 s of calls): cut while it grades, its heartbeat must meet the
        # outage. A fast one could finish first and meet it only when storing its report.
        slow = ids[0::2]
        wait_until(
            lambda: any(_status(direct, i)["progress"].startswith("check") for i in slow),
            30,
            "a slow grading under way",
            every=0.05,
        )
        proxy.down()
        time.sleep(4.0)
        proxy.restore()
        wait_until(lambda: _all_graded(direct, ids), 120, "all six gradings")
        infos = [_status(direct, i) for i in ids]
        assert [i["status"] for i in infos] == ["graded"] * 6
        assert [i["reports"] for i in infos] == [1] * 6
        assert [i["score"] for i in infos] == [3.0] * 6
        assert [i["attempts"] for i in infos] == [1] * 6, "no grading was thrown away"
        log = worker.text()
        assert "heartbeat of run" in log and "failed" in log, "a grading lost the database"
    finally:
        proxy.close()
