"""The request's database session, on the worker's models.

PostgreSQL: the worker's engine (``worker.db``). SQLite: an engine of the
portal's own on the same file. The worker's SQLite engine begins every
transaction with ``BEGIN IMMEDIATE`` (its read-then-write steps need the write
lock up front), which would make every page view, status poll included, queue
behind every other writer. Pages only read, and hand-ins go through
``worker.submit`` (the worker's engine), so here SQLite runs as the driver
does by default: reads outside transactions (WAL: they never wait for a
writer), and a write begins its transaction when it writes (sign-in records,
the staff's overrides), waiting up to the busy timeout for the lock.
"""

from __future__ import annotations

import threading

from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from worker.config import Settings
from worker.db import get_engine, normalize_url

_factories: dict[str, sessionmaker[Session]] = {}
_lock = threading.Lock()


def settings() -> Settings:
    return current_app.config["DLGRADE_SETTINGS"]


def _sqlite_reader(url: str) -> Engine:
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA busy_timeout = 30000")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    return engine


def session_factory(url: str) -> sessionmaker[Session]:
    url = normalize_url(url)
    with _lock:
        factory = _factories.get(url)
        if factory is None:
            engine = _sqlite_reader(url) if url.startswith("sqlite") else get_engine(url)
            factory = _factories[url] = sessionmaker(bind=engine, expire_on_commit=False)
        return factory


def db() -> Session:
    """This request's session (closed when the request ends)."""
    if "db_session" not in g:
        g.db_session = session_factory(settings().database_url)()
    return g.db_session


def _close(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def init_app(app: Flask) -> None:
    from worker.migrate import ensure_schema

    ensure_schema(app.config["DLGRADE_SETTINGS"].database_url)
    app.teardown_appcontext(_close)
