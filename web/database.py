"""The request's database session, on the worker's engine (one per URL and process)."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from worker.config import Settings
from worker.db import session_factory


def settings() -> Settings:
    return current_app.config["DLGRADE_SETTINGS"]


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
