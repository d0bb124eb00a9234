"""Engines and sessions, one per database URL and process; telling an outage from a bug.

SQLite (the embedded default) is shared by several worker processes on one
machine: WAL journal, a 30 s busy timeout, and ``BEGIN IMMEDIATE`` so that every
transaction takes the write lock up front. That serialises writers, which makes
the read-then-update steps (admission limits, fairness dispatch) race-free
without row locks; PostgreSQL gets ``SELECT ... FOR UPDATE`` on the user's row
for the same steps.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)
T = TypeVar("T")

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


class DatabaseUnavailable(RuntimeError):
    """The database did not answer (down, restarting, locked) within the time we allow."""


def normalize_url(url: str) -> str:
    """``postgresql://`` means psycopg 3 here (the driver we install), not psycopg2."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # SQLAlchemy, not the driver, decides where transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA busy_timeout = 30000")
        cur.execute("PRAGMA journal_mode = WAL")
        # FULL: a submission the student saw accepted survives a power cut.
        cur.execute("PRAGMA synchronous = FULL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:  # type: ignore[no-untyped-def]
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def get_engine(url: str) -> Engine:
    """The process's engine for ``url`` (created once; safe to share between threads)."""
    url = normalize_url(url)
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            if url.startswith("sqlite"):
                engine = create_engine(
                    url, connect_args={"timeout": 30, "check_same_thread": False}
                )
                _sqlite_setup(engine)
                _checkout_checks(engine, ping=False)
            else:
                # LIFO: the connection just returned is the one reused, so it stays warm
                # (and unpinged, below) while the others idle.
                engine = create_engine(
                    url,
                    pool_size=5,
                    max_overflow=5,
                    pool_use_lifo=True,
                    connect_args={"connect_timeout": 5},
                )
                _checkout_checks(engine, ping=True)
            _engines[url] = engine
        return engine


# A database that restarted leaves dead pooled connections. SQLAlchemy's pre_ping tests
# every checkout with a round trip; a worker checks out two per grading, back to back, and
# on busy cores each round trip also costs a wake-up. So only a connection idle this long
# is pinged. One used more recently saw a database that was up a moment ago: it is stale
# only if the database went away and came back within that moment, and then its first
# statement fails as "unavailable" (which the worker's paths retry) and invalidates every
# other connection of its pool.
PING_AFTER_IDLE_S = 1.0


def _checkout_checks(engine: Engine, *, ping: bool) -> None:
    """Hand out only this process's connections, pinged if they idled (see above).

    A forked child (a Celery pool process) inherits its parent's pool: those
    sockets are the parent's, so the child drops them unclosed and connects
    anew. Checked at checkout rather than in an ``os.register_at_fork`` hook,
    which would run in every fork, each sandbox start included, between its
    fork and its exec.
    """

    # record.info lives as long as the DBAPI connection: a reconnect starts it afresh.
    @event.listens_for(engine, "connect")
    def _born(_dbapi_connection, record) -> None:  # type: ignore[no-untyped-def]
        record.info["pid"] = os.getpid()
        record.info["used_at"] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection, record) -> None:  # type: ignore[no-untyped-def]
        record.info["used_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection, record, proxy) -> None:  # type: ignore[no-untyped-def]
        # Either way the pool discards this connection and checks out a fresh one.
        if record.info.get("pid") != os.getpid():
            record.dbapi_connection = proxy.dbapi_connection = None  # not closed: not ours
            raise exc.DisconnectionError("a connection inherited from the parent process")
        if not ping or time.monotonic() - record.info.get("used_at", 0.0) < PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as err:
            raise exc.DisconnectionError(f"a pooled connection was dead: {err}") from err


def session_factory(url: str) -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(url), expire_on_commit=False)


def is_unavailable(error: BaseException) -> bool:
    """Whether ``error`` means "the database is not there right now" rather than a bug."""
    if isinstance(error, DatabaseUnavailable):
        return True
    if isinstance(error, exc.OperationalError | exc.InterfaceError | exc.TimeoutError):
        return True
    return isinstance(error, exc.DBAPIError) and bool(error.connection_invalidated)


def with_retry(fn: Callable[[], T], *, budget_s: float, what: str) -> T:
    """Call ``fn`` until it works, backing off while the database is unavailable.

    Raises DatabaseUnavailable once ``budget_s`` seconds have passed; any other
    error propagates at once.
    """
    deadline = time.monotonic() + budget_s
    delay = 0.2
    while True:
        try:
            return fn()
        except Exception as err:
            if not is_unavailable(err):
                raise
            if time.monotonic() + delay > deadline:
                raise DatabaseUnavailable(f"{what}: the database is unavailable ({err})") from err
            log.warning("database unavailable during %s, retrying in %.1fs: %s", what, delay, err)
            time.sleep(delay * (0.75 + random.random() / 2))
            # Short steps: a grading waiting to store its report should be back within a
            # second of the database, well before the reaper judges its lease.
            delay = min(delay * 2, 1.0)
