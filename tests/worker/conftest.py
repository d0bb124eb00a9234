"""Fixtures of the worker tests: databases (SQLite and PostgreSQL), Redis, worker processes.

PostgreSQL and Redis are the ones scripts/start_services.sh starts (URLs from
DLGRADE_TEST_DATABASE_URL / DLGRADE_TEST_REDIS_URL, defaulting to what that
script prints). Each PostgreSQL test session gets a database of its own,
emptied between tests; each test gets its own Redis database number, flushed.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from grader.config import REPO_ROOT
from tests.conftest import require
from worker.config import Settings, default_broker_url

HERE = Path(__file__).resolve().parent
TINY = HERE / "tiny"
SUBMISSIONS = TINY / "submissions"
HOW = "scripts/start_services.sh (needs apt packages redis-server and postgresql)"
PG_URL = os.environ.get(
    "DLGRADE_TEST_DATABASE_URL", "postgresql+psycopg://dlgrade:dlgrade@127.0.0.1:5432/dlgrade"
)
REDIS_URL = os.environ.get("DLGRADE_TEST_REDIS_URL", "redis://127.0.0.1:6379")
TABLES = (
    "login_attempts, score_overrides, extensions, grade_reports, grade_runs, submissions, "
    "submission_blobs, enrollments, assignments, courses, users"
)
_redis_db = itertools.count(1)


def wait_until(predicate: Callable[[], object], timeout: float, what: str, every: float = 0.1):
    """Poll ``predicate`` until it returns something truthy; fail the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(every)


def postgres_available() -> bool:
    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


def redis_available() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=3).ping())
    except Exception:
        return False


@pytest.fixture(scope="session")
def postgres_base() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session."""
    require(postgres_available(), "PostgreSQL", HOW)
    from worker.migrate import upgrade

    name = f"dlgrade_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_URL.rsplit("/", 1)[0] + "/" + name
    upgrade(url)
    yield url
    from worker.db import get_engine

    get_engine(url).dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def empty_postgres(url: str) -> None:
    from worker.db import get_engine

    with get_engine(url).begin() as conn:
        conn.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))


def fresh_sqlite(folder: Path) -> str:
    from worker.migrate import upgrade

    url = f"sqlite:///{folder / 'dlgrade.sqlite'}"
    upgrade(url)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        return fresh_sqlite(tmp_path)
    url = request.getfixturevalue("postgres_base")
    empty_postgres(url)
    return url


@pytest.fixture(scope="session")
def sandbox_envs() -> Path:
    """The local sandbox's numpy environment, built once in the repository's data dir."""
    from grader.sandbox.local import ensure_env, env_dir

    saved = os.environ.pop("DLGRADE_DATA_DIR", None)
    try:
        ensure_env("numpy")
        return env_dir("numpy").parent
    finally:
        if saved is not None:
            os.environ["DLGRADE_DATA_DIR"] = saved


@pytest.fixture
def data_dir(sandbox_envs: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """This test's DLGRADE_DATA_DIR, sharing the built sandbox environments.

    Not under pytest's tmp_path: the local sandbox runs as nobody, and must be
    able to reach the environment through this folder (tmp_path's parents are 0700).
    """
    folder = Path(tempfile.mkdtemp(prefix="dlgrade-worker-test-"))
    folder.chmod(0o755)
    (folder / "envs").symlink_to(sandbox_envs)
    monkeypatch.setenv("DLGRADE_DATA_DIR", str(folder))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def settings(db_url: str, data_dir: Path) -> Settings:
    return Settings(
        database_url=db_url,
        broker_url=default_broker_url(data_dir),
        data_dir=data_dir,
        sandbox="local",
        lease_seconds=5.0,
        retry_backoff=30.0,
    )


@pytest.fixture
def redis_url() -> str:
    """The shared Redis, on a database number of this test's own, flushed."""
    require(redis_available(), "Redis", HOW)
    import redis

    db = 1 + next(_redis_db) % 15  # 0 is the one scripts/start_services.sh prints
    client = redis.Redis.from_url(f"{REDIS_URL}/{db}")
    client.flushdb()
    client.close()
    return f"{REDIS_URL}/{db}"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A private redis-server (append-only file on) that a test may kill and restart."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = _free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        folder.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        with open(self.folder / "redis.log", "ab") as log:
            self.proc = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port),
             "--dir", str(self.folder), "--appendonly", "yes", "--appendfsync", "everysec",
             "--save", ""],
            stdout=log,
            stderr=subprocess.STDOUT,
            )  # fmt: skip
        import redis

        client = redis.Redis.from_url(self.url, socket_timeout=1)

        def answers() -> bool:
            try:
                return bool(client.ping())
            except Exception:
                return False

        wait_until(answers, 20, "redis-server to answer")
        client.close()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def client(self):  # type: ignore[no-untyped-def]
        import redis

        return redis.Redis.from_url(self.url, socket_timeout=5)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    require(shutil.which("redis-server") is not None, "redis-server", HOW)
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.kill()


@dataclass
class WorkerProcess:
    proc: subprocess.Popen[bytes]
    log: Path

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def tree(self) -> set[int]:
        """The worker's processes and all their descendants (sandboxes included)."""
        seen: set[int] = set()
        todo = [self.proc.pid]
        while todo:
            pid = todo.pop()
            if pid in seen:
                continue
            seen.add(pid)
            for task in Path(f"/proc/{pid}/task").glob("*"):
                with contextlib.suppress(OSError):
                    todo += [int(p) for p in (task / "children").read_text().split()]
        return seen

    def kill9(self) -> None:
        # The group is named by the leader's pid: signal it only while the leader is
        # still unreaped (returncode None), or the number may belong to a stranger.
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def worker_env(settings: Settings, **extra: object) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DLGRADE_")}
    env.update(
        DLGRADE_DATA_DIR=str(settings.data_dir),
        DLGRADE_DATABASE_URL=settings.database_url,
        DLGRADE_BROKER_URL=settings.broker_url,
        DLGRADE_SANDBOX=settings.sandbox or "local",
        DLGRADE_LEASE_SECONDS=str(settings.lease_seconds),
        DLGRADE_REAPER_INTERVAL=str(settings.reaper_interval),
        DLGRADE_RETRY_BACKOFF=str(settings.retry_backoff),
        DLGRADE_REDISPATCH_AFTER=str(settings.redispatch_after),
        DLGRADE_DISPATCH_PER_STUDENT=str(settings.dispatch_per_student),
        DLGRADE_MAX_IN_FLIGHT=str(settings.max_in_flight),
        DLGRADE_RATE_LIMIT=settings.rate_limit,
        DLGRADE_MAX_ATTEMPTS=str(settings.max_attempts),
        PYTHONUNBUFFERED="1",
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


def dlgrade_command() -> list[str]:
    script = Path(sys.executable).parent / "dlgrade"
    return [str(script)] if script.exists() else [sys.executable, "-m", "grader.cli"]


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Start ``dlgrade worker`` processes (killed, with their sandboxes, at the end)."""
    started: list[WorkerProcess] = []
    names = itertools.count(1)

    def start(settings: Settings, concurrency: int = 1, wait: bool = True) -> WorkerProcess:
        n = next(names)
        log = tmp_path / f"worker-{n}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
            [*dlgrade_command(), "worker", "--queues", "cpu", "--concurrency", str(concurrency),
             "--name", f"test{n}-{uuid.uuid4().hex[:6]}@%h"],
            env=worker_env(settings),
            cwd=REPO_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            )  # fmt: skip
        worker = WorkerProcess(proc, log)
        started.append(worker)
        if wait:
            wait_until(
                lambda: " ready." in worker.text() or proc.poll() is not None,
                60,
                "the worker to start",
                every=0.2,
            )
            assert proc.poll() is None, worker.text()[-3000:]
        return worker

    yield start
    for worker in started:
        worker.kill9()


@pytest.fixture(autouse=True)
def no_warm_pool_left() -> Iterator[None]:
    """A test that grades with Docker in this process installs the process's warm pool
    (worker.grading.ensure_pool): remove it and its waiting containers after the test, so
    no later test meets a pool it did not make and no container outlives the suite."""
    yield
    from worker.grading import close_pool

    close_pool()
