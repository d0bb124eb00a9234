"""Pooled connections: pinged only after idling, never shared with a forked child.

Against the real PostgreSQL (a connection there has a server process whose id
we can read and kill) and SQLite for the fork rule.
"""

from __future__ import annotations

import os
import time

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

import worker.db
from worker.config import Settings
from worker.db import get_engine, is_unavailable
from worker.runs import GradeQueue

BACKEND_PID = text("SELECT pg_backend_pid()")


def _engine_of_its_own(postgres_base: str, name: str) -> Engine:
    """An engine no other test shares (get_engine caches one per URL and process)."""
    engine = get_engine(f"{postgres_base}?application_name={name}")
    engine.dispose()
    return engine


def _backend(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(BACKEND_PID).scalar_one())


def _terminate(postgres_base: str, pid: int) -> None:
    admin = create_engine(postgres_base)
    try:
        with admin.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
        deadline = time.monotonic() + 10
        with admin.connect() as conn:
            alive = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p")
            while conn.execute(alive, {"p": pid}).scalar() and time.monotonic() < deadline:
                time.sleep(0.02)
    finally:
        admin.dispose()


def test_a_connection_idle_past_the_threshold_is_pinged_and_replaced_if_dead(
    postgres_base: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = _engine_of_its_own(postgres_base, "dlgrade_test_ping")
    first = _backend(engine)
    _terminate(postgres_base, first)
    monkeypatch.setattr(worker.db, "PING_AFTER_IDLE_S", 0.0)  # every checkout counts as idle
    second = _backend(engine)  # no error: the ping found it dead, the pool reconnected
    assert second != first


def test_a_connection_used_a_moment_ago_is_not_pinged(
    postgres_base: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cost saved, and the documented gap: a database that went away and came back
    within the threshold fails one statement, as "unavailable", then the pool is fresh."""
    engine = _engine_of_its_own(postgres_base, "dlgrade_test_noping")
    monkeypatch.setattr(worker.db, "PING_AFTER_IDLE_S", 3600.0)
    first = _backend(engine)
    _terminate(postgres_base, first)
    with pytest.raises(OperationalError) as failed:
        _backend(engine)
    assert is_unavailable(failed.value), "worker paths retry exactly this kind of error"
    assert _backend(engine) != first


def test_a_statement_in_autocommit_leaves_the_pooled_connection_transactional(
    postgres_base: str, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """The worker's one-statement steps run in autocommit; the next user of that same
    connection must get a real transaction again (its rollback undoes its writes)."""
    q = GradeQueue(Settings(database_url=postgres_base, broker_url="memory://", data_dir=tmp_path))
    with q.engine.connect() as conn:
        conn.execute(text("CREATE TEMP TABLE IF NOT EXISTS probe (x int)"))
        conn.execute(text("TRUNCATE probe"))
        conn.commit()
    with q._one_statement() as conn:
        mine = conn.execute(BACKEND_PID).scalar_one()
        conn.execute(text("INSERT INTO probe VALUES (1)"))
    with q.engine.connect() as conn:
        assert conn.execute(BACKEND_PID).scalar_one() == mine, "LIFO: the same connection"
        conn.execute(text("INSERT INTO probe VALUES (2)"))
        conn.rollback()
        assert conn.execute(text("SELECT x FROM probe ORDER BY x")).scalars().all() == [1]


def _child_backend(engine: Engine) -> int:
    """The backend a forked child gets from ``engine``'s pool (-1 on any error)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 0
        try:
            os.close(read)
            os.write(write, str(_backend(engine)).encode())
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read) as pipe:
        got = pipe.read()
    _, status = os.waitpid(pid, 0)
    return int(got) if os.waitstatus_to_exitcode(status) == 0 and got else -1


def test_a_forked_child_connects_anew_and_leaves_the_parents_connection_alone(
    postgres_base: str,
) -> None:
    engine = _engine_of_its_own(postgres_base, "dlgrade_test_fork")
    parent = _backend(engine)
    child = _child_backend(engine)
    assert child not in (-1, parent), "the child must not talk on the parent's socket"
    assert _backend(engine) == parent, "and must not have closed it either"


def test_sqlite_connections_stay_in_their_process_too(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A TEMP table lives and dies with its connection: it tells connections apart."""
    engine = get_engine(f"sqlite:///{tmp_path / 'fork.sqlite'}")
    marked = text("SELECT count(*) FROM sqlite_temp_master WHERE name = 'marker'")
    with engine.connect() as conn:
        conn.execute(text("CREATE TEMP TABLE marker (x int)"))
        conn.commit()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 0
        try:
            os.close(read)
            with engine.connect() as conn:
                os.write(write, str(conn.execute(marked).scalar_one()).encode())
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read) as pipe:
        in_child = pipe.read()
    os.waitpid(pid, 0)
    assert in_child == "0", "the child has a connection of its own"
    with engine.connect() as conn:
        assert conn.execute(marked).scalar_one() == 1, "the parent's is still there"
