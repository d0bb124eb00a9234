"""``dlgrade backup DIR`` / ``dlgrade restore DIR``: the database, submissions included.

Submissions' bytes live in the database (``SubmissionBlob``), so one snapshot of
the database is a consistent backup of everything that is state: a submission,
its bytes, its runs and reports are all in it or all not. PostgreSQL's
``pg_dump`` reads one snapshot of every table (a single repeatable-read
transaction), so a backup taken while gradings run needs no pause: a grading
that finishes after the snapshot is simply not in it, and its run is restored as
still to do. SQLite (one machine) is copied with its own online backup.

DIR holds ``dlgrade.dump`` (pg_dump's custom format) or ``dlgrade.sqlite``, and
``manifest.json`` (when, from which schema revision, how many rows of what).

``restore`` loads DIR into a database that holds no course, user or submission
(a fresh stack whose schema the ``migrate`` service may already have made),
brings the schema up to this version, and puts every run that was waiting in the
broker or on a worker at backup time back in the queue: the broker and workers
of the new stack know nothing of them, and their reaper dispatches them.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import Engine, func, select, text, update
from sqlalchemy.engine import make_url

from worker.models import (
    Course,
    GradeReport,
    GradeRun,
    RunStatus,
    Submission,
    SubmissionBlob,
    User,
    utcnow,
)

MANIFEST = "manifest.json"
PG_DUMP = "dlgrade.dump"
SQLITE_COPY = "dlgrade.sqlite"
COUNTED = {"submissions": Submission, "blobs": SubmissionBlob, "runs": GradeRun,
           "reports": GradeReport, "users": User, "courses": Course}  # fmt: skip


class BackupError(RuntimeError):
    """A backup or restore that cannot be done; the message says why."""


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            name: int(conn.scalar(select(func.count()).select_from(model)) or 0)
            for name, model in COUNTED.items()
        }


def _libpq(url: str) -> tuple[list[str], dict[str, str]]:
    """Connection options for pg_dump / pg_restore, the password in the environment only."""
    u = make_url(url)
    args = ["--host", u.host or "localhost", "--port", str(u.port or 5432),
            "--username", u.username or "postgres", "--dbname", u.database or ""]  # fmt: skip
    env = {**os.environ, "PGPASSWORD": u.password or "", "PGCONNECT_TIMEOUT": "10"}
    return args, env


def _run(cmd: list[str], env: dict[str, str], what: str) -> None:
    try:
        done = subprocess.run(cmd, env=env, capture_output=True, check=False)
    except FileNotFoundError:
        raise BackupError(
            f"{cmd[0]} is not installed (apt-get install postgresql-client)"
        ) from None
    if done.returncode != 0:
        raise BackupError(f"{what} failed: {done.stderr.decode(errors='replace')[-2000:]}")


def backup(engine: Engine, folder: Path) -> dict[str, object]:
    """Write a backup of ``engine``'s database into the new or empty ``folder``; its manifest."""
    from worker.migrate import current

    folder.mkdir(parents=True, exist_ok=True)
    if any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty; back up into a new folder")
    url = engine.url.render_as_string(hide_password=False)
    dialect = engine.dialect.name
    started = utcnow()
    before = counts(engine)
    if dialect == "postgresql":
        args, env = _libpq(url)
        _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
              "--file", str(folder / PG_DUMP), *args], env, "pg_dump")  # fmt: skip
    elif dialect == "sqlite":
        src = sqlite3.connect(engine.url.database or "")
        dst = sqlite3.connect(folder / SQLITE_COPY)
        with dst:
            src.backup(dst)
        src.close()
        dst.close()
    else:
        raise BackupError(f"cannot back up a {dialect} database")
    manifest = {
        "format": dialect,
        "started_at": started.isoformat() + "Z",
        "finished_at": utcnow().isoformat() + "Z",
        "revision": current(engine),
        # Counted before the snapshot: rows only ever grow, so the backup holds at least these.
        "at_least": before,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def _is_empty(engine: Engine) -> bool:
    from sqlalchemy import inspect

    tables = set(inspect(engine).get_table_names())
    if "submissions" not in tables:
        return True
    found = counts(engine)
    return not (found["users"] or found["courses"] or found["submissions"])


def restore(engine: Engine, folder: Path) -> dict[str, int]:
    """Load the backup in ``folder`` into ``engine``'s empty database; the restored counts."""
    from worker.migrate import upgrade

    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise BackupError(f"{folder} holds no {MANIFEST}: not a dlgrade backup")
    manifest = json.loads(manifest_path.read_text())
    dialect = engine.dialect.name
    if manifest.get("format") != dialect:
        raise BackupError(
            f"the backup is of a {manifest.get('format')} database, this is {dialect}"
        )
    if not _is_empty(engine):
        raise BackupError(
            "the database already holds courses, users or submissions; restore only into an "
            "empty one (a new stack, or a new database)"
        )
    url = engine.url.render_as_string(hide_password=False)
    if dialect == "postgresql":
        # The migrate service may have made an empty schema: replaced by the backup's.
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        args, env = _libpq(url)
        _run(["pg_restore", "--no-owner", "--no-privileges", "--single-transaction",
              "--exit-on-error", *args, str(folder / PG_DUMP)], env, "pg_restore")  # fmt: skip
    else:
        engine.dispose()
        shutil.copyfile(folder / SQLITE_COPY, engine.url.database or "")
    upgrade(url)
    with engine.begin() as conn:
        # Messages and leases of the old stack: gone with it. Queued again, dispatched anew.
        conn.execute(
            update(GradeRun)
            .where(GradeRun.status.in_([RunStatus.DISPATCHED.value, RunStatus.RUNNING.value]))
            .values(
                status=RunStatus.QUEUED.value,
                worker=None,
                lease_expires_at=None,
                dispatched_at=None,
                not_before=None,
                progress="",
            )
        )
    after = counts(engine)
    short = {k: v for k, v in manifest.get("at_least", {}).items() if after.get(k, 0) < v}
    if short:
        raise BackupError(f"the restored database has fewer rows than the backup counted: {short}")
    return after
