"""Schema migrations (Alembic): ``dlgrade db upgrade`` and the check every command makes.

An empty database is created on first use (the embedded default needs no
set-up step); SQLite, which only this machine uses, is also brought up to date
on its own. A server database that is behind is an error that names the
command to run: migrating a shared database is an operator's decision.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from worker.db import get_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class SchemaOutOfDate(RuntimeError):
    pass


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head() -> str:
    rev = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert rev is not None
    return rev


def current(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(url: str, revision: str = "head") -> str | None:
    """Migrate the database at ``url`` to ``revision``; return the revision it is at now."""
    engine = get_engine(url)
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    return current(engine)


def ensure_schema(url: str) -> None:
    """Create an empty database's tables; refuse (SchemaOutOfDate) a server database behind."""
    engine = get_engine(url)
    rev = current(engine)
    if rev == head():
        return
    empty = rev is None and not set(inspect(engine).get_table_names()) - {"alembic_version"}
    if empty or engine.dialect.name == "sqlite":
        upgrade(url)
        return
    raise SchemaOutOfDate(
        f"the database is at revision {rev}, this dlgrade needs {head()}: run dlgrade db upgrade"
    )
