"""``dlgrade submit | status | worker | db``: the queue's commands.

Registered into grader's command line through the ``dlgrade.cli`` entry point
(see pyproject.toml), so ``grader`` never imports ``worker``. Heavy imports
(Celery, SQLAlchemy) wait until a command runs: ``dlgrade grade`` stays quick.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from collections.abc import Callable
from typing import Any

EXIT_REFUSED = 3


def _settings():  # type: ignore[no-untyped-def]
    from worker.config import load_settings

    # kombu's SQLAlchemy transport uses a loader SQLAlchemy 2.1 deprecates; not ours to fix.
    warnings.filterwarnings("ignore", message=".*noload.*", module="kombu")
    warnings.filterwarnings("ignore", message=".*``noload``.*")

    return load_settings()


def _ready_settings():  # type: ignore[no-untyped-def]
    from worker.migrate import ensure_schema

    settings = _settings()
    ensure_schema(settings.database_url)
    return settings


def _submit(args: argparse.Namespace) -> int:
    if args.remote:
        from worker.remote import submit_command

        return submit_command(args)
    if not args.student:
        print("dlgrade: submit needs --student (or --remote URL)", file=sys.stderr)
        return 2
    from grader.assignment import load_assignment
    from worker.app import publisher
    from worker.storage import UploadTooLarge
    from worker.submit import SubmissionRefused, submit

    settings = _ready_settings()
    spec = load_assignment(args.assignment)
    try:
        accepted = submit(spec, args.file, args.student, settings, publisher(settings))
    except (SubmissionRefused, UploadTooLarge) as err:
        print(f"dlgrade: refused: {err}", file=sys.stderr)
        return EXIT_REFUSED
    print(f"stored {accepted.filename}: {accepted.size} bytes, sha256 {accepted.sha256}")
    when = "LATE" if accepted.late else "on time"
    print(f"{args.student} -> {spec.slug} v{spec.version} ({when}), queue {accepted.queue}")
    print("dispatched to a worker" if accepted.dispatched else accepted.note)
    print(accepted.submission_id)
    return 0


def _status(args: argparse.Namespace) -> int:
    if args.remote:
        from worker.remote import status_command

        return status_command(args)
    from grader.messages import GradeReport
    from grader.report import render_text
    from worker.status import submission_status

    info = submission_status(_ready_settings(), args.id)
    if info is None:
        print(f"dlgrade: no submission {args.id}", file=sys.stderr)
        return 2
    report = info.pop("report", None)
    if args.json:
        if args.report:
            info["report"] = report
        sys.stdout.write(json.dumps(info) + "\n")
        return 0
    score = "" if info["score"] is None else f" {info['score']:g}/{info['max_score']:g}"
    print(f"submission {info['id']}: {info['status']}{score}")
    for key in ("assignment", "student", "submitted_at", "late", "attempts", "reports"):
        print(f"  {key}: {info[key]}")
    for key in ("progress", "error"):
        if info[key]:
            print(f"  {key}: {info[key]}")
    if report is not None and args.report:
        print(render_text(GradeReport.from_dict(report)))
    return 0


def _worker(args: argparse.Namespace) -> int:
    if args.sandbox:
        os.environ["DLGRADE_SANDBOX"] = args.sandbox
    settings = _ready_settings()
    from worker.tasks import app

    queues = ",".join(q.strip() for q in args.queues.split(",") if q.strip())
    if "gpu" in queues.split(",") and settings.gpu_queue.strip().lower() != "on":
        # Routing is decided where submissions are accepted, from the same setting.
        print(
            "dlgrade worker: listening on gpu, but DLGRADE_GPU_QUEUE is not 'on': submissions "
            "accepted with this setting go to cpu where their assignment allows it",
            file=sys.stderr,
            flush=True,
        )
    concurrency, how = args.concurrency, "as asked"
    if concurrency is None:
        from worker.concurrency import worker_concurrency

        concurrency, how = worker_concurrency(settings)
    argv = [
        "worker",
        "--queues",
        queues,
        "--concurrency",
        str(concurrency),
        "--loglevel",
        args.loglevel,
        "--pool",
        "prefork",
        # Peers are found through the database, not gossip; these only slow start-up.
        "--without-gossip",
        "--without-mingle",
        "--hostname",
        args.name or f"dlgrade-{os.getpid()}@%h",
    ]
    print(
        f"dlgrade worker: queues {queues}, concurrency {concurrency} ({how}), "
        f"sandbox {settings.sandbox or 'auto'}, broker {_redact(settings.broker_url)}",
        flush=True,
    )
    app.worker_main(argv)
    return 0


def _redact(url: str) -> str:
    head, sep, tail = url.partition("@")
    if not sep or "://" not in head:
        return url
    scheme, _, creds = head.partition("://")
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{tail}"


def _db(args: argparse.Namespace) -> int:
    from worker.db import get_engine
    from worker.migrate import current, head, upgrade

    settings = _settings()
    if args.action == "upgrade":
        rev = upgrade(settings.database_url, args.revision)
        print(f"database {_redact(settings.database_url)} at revision {rev}")
    else:
        rev = current(get_engine(settings.database_url))
        print(f"database {_redact(settings.database_url)} at revision {rev} (head {head()})")
    return 0


def _fsck(args: argparse.Namespace) -> int:
    from worker.db import get_engine
    from worker.fsck import fsck, render

    result = fsck(get_engine(_ready_settings().database_url))
    print(render(result))
    return 0 if result.clean else 1


def _backup(args: argparse.Namespace) -> int:
    from pathlib import Path

    from worker.backup import BackupError, backup
    from worker.db import get_engine

    try:
        manifest = backup(get_engine(_ready_settings().database_url), Path(args.dir))
    except BackupError as err:
        print(f"dlgrade: backup: {err}", file=sys.stderr)
        return 1
    counted = ", ".join(f"{n} {k}" for k, n in manifest["at_least"].items())  # type: ignore[union-attr]
    print(f"backed up into {args.dir}: {counted}")
    return 0


def _restore(args: argparse.Namespace) -> int:
    from pathlib import Path

    from worker.backup import BackupError, restore
    from worker.db import get_engine

    try:
        after = restore(get_engine(_settings().database_url), Path(args.dir))
    except BackupError as err:
        print(f"dlgrade: restore: {err}", file=sys.stderr)
        return 1
    print(f"restored from {args.dir}: " + ", ".join(f"{n} {k}" for k, n in after.items()))
    return 0


def _capacity(args: argparse.Namespace) -> int:
    from worker.capacity import explain, measured, parse_window
    from worker.db import get_engine

    try:
        window = parse_window(args.window)
    except ValueError as err:
        print(f"dlgrade: capacity: {err}", file=sys.stderr)
        return 2
    if args.students < 1 or args.per_student < 1 or args.concurrency < 1:
        print("dlgrade: capacity: counts must be at least 1", file=sys.stderr)
        return 2
    found = measured(get_engine(_ready_settings().database_url), args.assignment)
    if not found:
        print(
            f"dlgrade: capacity: no finished grading of {args.assignment} in the database yet "
            "(grade its solution a few times first)",
            file=sys.stderr,
        )
        return 1
    for m in found:
        print("\n".join(explain(m, args.students, args.per_student, window, args.concurrency)))
    return 0


def _guarded(fn: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Platform troubles (database away, schema behind) as one line and exit status 2."""

    def run(args: argparse.Namespace) -> int:
        from sqlalchemy.exc import OperationalError

        from worker.db import DatabaseUnavailable
        from worker.migrate import SchemaOutOfDate

        try:
            return fn(args)
        except (SchemaOutOfDate, DatabaseUnavailable, OperationalError) as err:
            print(f"dlgrade: {str(err).splitlines()[0]}", file=sys.stderr)
            return 2

    return run


def _remote_options(parser: argparse.ArgumentParser) -> None:
    """Through a portal's JSON API instead of this machine's database (worker.remote)."""
    parser.add_argument(
        "--remote", metavar="URL", help="the portal, e.g. https://grader.example.edu"
    )
    parser.add_argument("--token", help="an API token (default: $DLGRADE_TOKEN)")
    parser.add_argument(
        "--insecure",
        action="store_true",
        help="with --remote: allow plain http:// to a host other than this machine",
    )


def register(sub: Any) -> None:
    """Add this package's commands to ``dlgrade``'s subparsers."""
    s = sub.add_parser("submit", help="store a submission and queue it for grading")
    s.add_argument(
        "assignment",
        help="assignment folder, e.g. assignments/activations (with --remote: its slug)",
    )
    s.add_argument("file", help="a .py file, a folder or a .zip")
    s.add_argument("--student", help="the student's user name (required without --remote)")
    _remote_options(s)
    s.add_argument("--course", type=int, help="with --remote: the course id, if several offer it")
    s.add_argument("--wait", action="store_true", help="with --remote: follow it, print the report")
    s.set_defaults(func=_guarded(_submit))

    st = sub.add_parser("status", help="where a submission stands (the id submit printed)")
    st.add_argument("id", type=int)
    st.add_argument("--json", action="store_true", help="print one JSON object")
    st.add_argument("--report", action="store_true", help="include the full report")
    _remote_options(st)
    st.set_defaults(func=_guarded(_status))

    w = sub.add_parser("worker", help="grade queued submissions (a Celery worker)")
    w.add_argument("--queues", default="cpu", help="comma-separated: cpu, gpu (default cpu)")
    w.add_argument(
        "--concurrency",
        type=int,
        default=None,
        help="gradings at once (default: as many as the host's cores hold, given the "
        "assignments' cpus: a grading waits for a CPU rather than competing for one)",
    )
    w.add_argument("--sandbox", choices=("docker", "local"), default=None)
    w.add_argument("--loglevel", default="INFO")
    w.add_argument("--name", default=None, help="Celery node name (default dlgrade-PID@host)")
    w.set_defaults(func=_guarded(_worker))

    f = sub.add_parser("fsck", help="check stored submissions and runs (exit 1 with a list)")
    f.set_defaults(func=_guarded(_fsck))
    b = sub.add_parser("backup", help="back up the database (submissions included) into DIR")
    b.add_argument("dir")
    b.set_defaults(func=_guarded(_backup))
    r = sub.add_parser("restore", help="restore a backup from DIR into an empty database")
    r.add_argument("dir")
    r.set_defaults(func=_guarded(_restore))
    c = sub.add_parser("capacity", help="worker processes a deadline needs, from measured gradings")
    c.add_argument("--assignment", required=True, help="its slug, e.g. activations")
    c.add_argument("--students", type=int, required=True)
    c.add_argument("--window", default="30m", help="the rush before the deadline (30m, 2h)")
    c.add_argument("--per-student", type=int, default=1, help="submissions each (default 1)")
    c.add_argument("--concurrency", type=int, default=2, help="processes per worker container")
    c.set_defaults(func=_guarded(_capacity))

    d = sub.add_parser("db", help="the database schema")
    dsub = d.add_subparsers(dest="action", required=True)
    up = dsub.add_parser("upgrade", help="migrate the database to this version of dlgrade")
    up.add_argument("--revision", default="head")
    up.set_defaults(func=_guarded(_db))
    cur = dsub.add_parser("current", help="the database's schema revision")
    cur.set_defaults(func=_guarded(_db))
