"""Alembic's environment: the models' metadata and a connection from ``worker.migrate``.

Run through ``dlgrade db upgrade``. For a new revision, from the repository root:
``.venv/bin/alembic -c worker/migrations/alembic.ini revision --autogenerate -m "..."``
(the database is DLGRADE_DATABASE_URL, as everywhere).
"""

from __future__ import annotations

from alembic import context

from worker.models import Base

config = context.config


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from worker.config import load_settings
    from worker.db import get_engine

    with get_engine(load_settings().database_url).connect() as conn:
        _run(conn)
        conn.commit()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run dlgrade db upgrade")
run_migrations_online()
