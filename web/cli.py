"""``dlgrade portal serve | demo`` and ``dlgrade users``: the portal's commands.

Registered through the ``dlgrade.cli`` entry point.

``demo`` is the README's first command: the portal on embedded defaults
(SQLite, the embedded broker, the sandbox that answers), the demo course, one
worker process, and the logins printed. Ctrl-C stops the web server, then the
worker and everything it started; nothing is left running.
"""

from __future__ import annotations

import argparse
import contextlib
import faulthandler
import os
import shutil
import signal
import subprocess
import sys
import time
from typing import Any

# Seconds a worker gets to finish its current grading after Ctrl-C (acks_late and the
# run's lease make a cut-off grading safe: it is graded again next time).
WORKER_STOP_S = 10.0


# gunicorn's threaded workers: a request waits for a free thread, never for a slow
# client's bytes once nginx (which reads every request whole first) is in front; without
# it, keep-alive connections wait in gunicorn's poller rather than hold a thread. A thread
# stuck past TIMEOUT_S gets its worker process restarted.
THREADS = 8
TIMEOUT_S = 60
GRACEFUL_TIMEOUT_S = 30
KEEPALIVE_S = 5


def _serve(args: argparse.Namespace) -> int:
    import tempfile

    gunicorn = shutil.which("gunicorn") or os.path.join(os.path.dirname(sys.executable), "gunicorn")
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # /metrics sums the request timings of every gunicorn process through this folder;
        # a fresh one per server start (stale files would count a dead process's requests).
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="dlgrade-metrics-")
    argv = [gunicorn, "--workers", str(args.workers), "--bind", f"{args.host}:{args.port}",
            "--worker-class", "gthread", "--threads", str(THREADS),
            "--timeout", str(TIMEOUT_S), "--graceful-timeout", str(GRACEFUL_TIMEOUT_S),
            "--keep-alive", str(KEEPALIVE_S),
            # Workers' heartbeat files in memory: a slow /tmp disk cannot get them killed.
            "--worker-tmp-dir", "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir(),
            "--forwarded-allow-ips", "*"]  # fmt: skip
    os.execv(gunicorn, [*argv, "web.wsgi:app"])
    return 2  # not reached


def _start_worker(concurrency: int, log_path: str) -> subprocess.Popen[bytes]:
    script = os.path.join(os.path.dirname(sys.executable), "dlgrade")
    command = [script] if os.path.exists(script) else [sys.executable, "-m", "grader.cli"]
    # A session of its own: the terminal's Ctrl-C reaches us only, and we stop the worker
    # (and its pool and sandboxes, all in its process group) in order.
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [*command, "worker", "--queues", "cpu,gpu", "--concurrency", str(concurrency)],
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def _exited(pid: int) -> bool:
    """Whether our child ``pid`` has exited, WITHOUT reaping it (its zombie keeps the group id)."""
    return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None


def _stop_worker(proc: subprocess.Popen[bytes]) -> None:
    """Warm shutdown, then SIGKILL to whatever is left of the worker's process group.

    The leader is reaped only at the end: until then its pid, which names the
    group, cannot be reused, so the group signal never reaches a stranger.
    """
    if _exited(proc.pid):
        proc.wait()
        return
    proc.send_signal(signal.SIGTERM)  # Celery's warm shutdown: it stops its own pool
    deadline = time.monotonic() + WORKER_STOP_S
    while not _exited(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # a pool child or sandbox that outlived it
    proc.wait()


def _demo(args: argparse.Namespace) -> int:
    from werkzeug.serving import make_server

    from web import create_app
    from web.demo import seed_demo
    from worker.config import load_settings
    from worker.migrate import ensure_schema

    if args.sandbox:
        os.environ["DLGRADE_SANDBOX"] = args.sandbox
    settings = load_settings()
    ensure_schema(settings.database_url)
    demo = seed_demo(settings)
    app = create_app({"DLGRADE_SETTINGS": settings})
    server = make_server(args.host, args.port, app, threaded=True)
    worker_log = str(settings.data_dir / "demo-worker.log")

    def _terminate(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    # `kill -USR1 <pid>` prints every thread's stack (a demo that will not stop says where).
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    # Before the worker starts: from then on every way out goes through the finally below.
    # SIGINT too: a parent may have left it ignored (a shell's background job does), and
    # Python then never turns Ctrl-C into KeyboardInterrupt (a test run of the demo hung so).
    signal.signal(signal.SIGINT, _terminate)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)  # the terminal closed: stop the worker too
    worker: subprocess.Popen[bytes] | None = None
    try:
        worker = _start_worker(args.concurrency, worker_log)
        url = f"http://{args.host}:{server.server_port}/"
        print("dlgrade demo: the portal on embedded defaults", flush=True)
        print(f"  database  {settings.database_url}")
        print(f"  broker    {settings.broker_url}")
        print(f"  sandbox   {settings.sandbox or 'docker when it answers, else local'}")
        print(f"  worker    1 process (pid {worker.pid}), log {worker_log}")
        print(f"  course    {', '.join(sorted(demo.assignments))}")
        for slug, why in sorted(demo.not_offered.items()):
            print(f"  not offered: {slug}: {why}")
        for role, (name, password) in demo.logins.items():
            print(f"  {role:<10} user {name:<10} password {password}")
        print(f"Open {url}  (Ctrl-C stops the portal and its worker)", flush=True)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if worker is not None:
            _stop_worker(worker)
        print("dlgrade demo: stopped", flush=True)
    return 0


def _demo_course(args: argparse.Namespace) -> int:
    from web.demo import seed_demo
    from worker.config import load_settings
    from worker.migrate import ensure_schema

    settings = load_settings()
    ensure_schema(settings.database_url)
    demo = seed_demo(settings)
    print(f"demo course {demo.course_id}: {', '.join(sorted(demo.assignments))}")
    for role, (name, password) in demo.logins.items():
        print(f"  {role:<10} user {name:<10} password {password}")
    return 0


def _user_token(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from web.api.tokens import TokenRefused, create_token, is_staff_anywhere
    from worker.config import load_settings
    from worker.db import session_factory
    from worker.models import User

    with session_factory(load_settings().database_url)() as s:
        user_id = s.scalar(select(User.id).where(User.name == args.login))
        if user_id is None:
            print(f"dlgrade: no account {args.login!r}", file=sys.stderr)
            return 2
        scope = args.scope or ("staff" if is_staff_anywhere(s, user_id) else "student")
        try:
            _row, plain = create_token(s, user_id, args.name, scope)
        except TokenRefused as err:
            print(f"dlgrade: {err}", file=sys.stderr)
            return 2
    print(plain)
    return 0


def _users_admin(args: argparse.Namespace) -> int:
    """Make LOGIN a site administrator (creating the account), or no longer one."""
    from sqlalchemy import select

    from web.auth.passwords import issue_one_time
    from worker.config import load_settings
    from worker.db import session_factory
    from worker.migrate import ensure_schema
    from worker.models import User

    settings = load_settings()
    ensure_schema(settings.database_url)
    with session_factory(settings.database_url).begin() as s:
        user = s.scalar(select(User).where(User.name == args.login))
        if user is None and args.remove:
            print(f"dlgrade: there is no account {args.login!r}", file=sys.stderr)
            return 1
        password = None
        if user is None:
            user = User(name=args.login, full_name=args.full_name or "", email=args.email)
            s.add(user)
            s.flush()
            password = issue_one_time(s, user.id)
        user.is_admin = not args.remove
        if args.password and password is None:
            password = issue_one_time(s, user.id)
    state = "no longer a site administrator" if args.remove else "a site administrator"
    print(f"{args.login} is {state}")
    if password is not None:
        print(f"one-time password (changed at the first sign-in): {password}")
    return 0


def _users_password(args: argparse.Namespace) -> int:
    """A one-time password for LOGIN (every session of the account ends)."""
    from sqlalchemy import select

    from web.auth.passwords import issue_one_time
    from worker.config import load_settings
    from worker.db import session_factory
    from worker.migrate import ensure_schema
    from worker.models import User

    settings = load_settings()
    ensure_schema(settings.database_url)
    with session_factory(settings.database_url).begin() as s:
        user_id = s.scalar(select(User.id).where(User.name == args.login))
        if user_id is None:
            print(f"dlgrade: there is no account {args.login!r}", file=sys.stderr)
            return 1
        password = issue_one_time(s, user_id)
    print(f"one-time password for {args.login} (changed at the next sign-in): {password}")
    return 0


def register(sub: Any) -> None:
    """Add ``dlgrade portal`` and ``dlgrade users`` to ``dlgrade``'s subparsers."""
    p = sub.add_parser("portal", help="the web portal")
    psub = p.add_subparsers(dest="action", required=True)
    s = psub.add_parser("serve", help="run the portal under gunicorn (configured from DLGRADE_*)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--workers", type=int, default=2)
    s.set_defaults(func=_serve)
    dc = psub.add_parser(
        "demo-course", help="load the demo course and its three users; print their logins"
    )
    dc.set_defaults(func=_demo_course)
    d = psub.add_parser("demo", help="the portal, a worker and a demo course on embedded defaults")
    d.add_argument("--host", default="127.0.0.1")
    d.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    d.add_argument("--concurrency", type=int, default=1)
    d.add_argument("--sandbox", choices=("docker", "local"), default=None)
    d.set_defaults(func=_demo)

    u = sub.add_parser(
        "users", help="accounts: API tokens, site administrators, one-time passwords"
    )
    usub = u.add_subparsers(dest="action", required=True)
    t = usub.add_parser("token", help="print a new API token for LOGIN")
    t.add_argument("login")
    t.add_argument("--scope", choices=("student", "staff"), help="default: staff for staff")
    t.add_argument("--name", default="issued by dlgrade users token", help="what it is for")
    t.set_defaults(func=_user_token)
    a = usub.add_parser(
        "admin", help="make LOGIN a site administrator (the account is made if missing)"
    )
    a.add_argument("login")
    a.add_argument("--remove", action="store_true", help="LOGIN is no longer one")
    a.add_argument("--password", action="store_true", help="also issue a one-time password")
    a.add_argument("--full-name", default="", help="a new account's name")
    a.add_argument("--email", default=None, help="a new account's email")
    a.set_defaults(func=_users_admin)
    pw = usub.add_parser("password", help="issue LOGIN a one-time password")
    pw.add_argument("login")
    pw.set_defaults(func=_users_password)
