"""The portal at the deadline: STUDENTS sign in and hand in within RAMP seconds, then watch.

    python bench/bench_portal.py [--students 300] [--ramp 60] [--web-workers 2]
                                 [--grade-workers 1] [--poll 1] [--max-wait 600]

Everything real on this machine: gunicorn serving ``web.wsgi:app`` (SQLite and
the embedded broker, as ``make demo``), ``dlgrade worker`` processes with the
local sandbox, the activations assignment graded for its solution. Each
simulated student (a thread) signs in through the form, opens the assignment,
hands in the solution, then polls its status JSON until graded, as the page's
script does (every 1.5 s plus 0.1 s per place in the queue, at most 10 s; every
POLL seconds while running).

Prints per kind of request the count, errors and p50 / p95 latency, how long
until the last report, and checks that every submission ended with exactly
one report. A page's latency here includes waiting for these 2 cores, shared
with the graders and with the clients themselves: read it side by side with
the bare ``GET /login`` line, which measures that sharing.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
PASSWORD = "bench password"
SOLUTION = ROOT / "assignments" / "activations" / "solution" / "activations.py"

latencies: dict[str, list[float]] = defaultdict(list)
errors: dict[str, int] = defaultdict(int)
lock = threading.Lock()


def timed(kind: str, fn):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    try:
        return fn()
    except Exception:
        with lock:
            errors[kind] += 1
        raise
    finally:
        with lock:
            latencies[kind].append(time.perf_counter() - start)


class Student:
    def __init__(self, base: str, name: str) -> None:
        self.base, self.name = base, name
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, kind: str, path: str) -> str:
        def go() -> str:
            with self.opener.open(self.base + path, timeout=60) as r:
                return r.read().decode()

        return timed(kind, go)

    def post(self, kind: str, path: str, body: bytes, ctype: str) -> str:
        def go() -> str:
            req = urllib.request.Request(
                self.base + path, data=body, headers={"Content-Type": ctype}
            )
            with self.opener.open(req, timeout=60) as r:
                return r.geturl()

        return timed(kind, go)

    def journey(self, course: int, poll: float, deadline: float) -> float | None:
        """Sign in, hand in, poll until graded (the seconds it took) or the deadline (None)."""
        token = CSRF.search(self.get("GET /login", "/login")).group(1)
        form = {"name": self.name, "password": PASSWORD, "csrf_token": token}
        self.post("POST /login", "/login", urllib.parse.urlencode(form).encode(),
                  "application/x-www-form-urlencoded")  # fmt: skip
        page = f"/courses/{course}/a/activations"
        token = CSRF.search(self.get("GET assignment page", page)).group(1)
        boundary = uuid.uuid4().hex
        head = f"--{boundary}\r\nContent-Disposition: form-data; name="
        body = (
            (
                f'{head}"csrf_token"\r\n\r\n{token}\r\n'
                f'{head}"files"; filename="activations.py"\r\nContent-Type: text/x-python\r\n\r\n'
            ).encode()
            + SOLUTION.read_bytes()
            + f"\r\n--{boundary}--\r\n".encode()
        )
        handed = time.monotonic()
        landed = self.post("POST hand-in", page + "/submit", body,
                           f"multipart/form-data; boundary={boundary}")  # fmt: skip
        sub = landed.rsplit("/", 1)[1]
        if not sub.isdigit():
            raise RuntimeError(f"{self.name}: hand-in landed on {landed}")
        self.get("GET submission page", f"/submissions/{sub}")
        import json

        while True:
            status = json.loads(self.get("GET status.json", f"/submissions/{sub}/status.json"))
            if status["status"] in ("graded", "error"):
                if status["status"] != "graded":
                    raise RuntimeError(f"{self.name}: {status}")
                return time.monotonic() - handed
            if time.monotonic() > deadline:
                return None
            # As web/static/js/status.js does: slower far back in the queue.
            wait = poll if status["status"] == "running" else 1.5 + 0.1 * (status["position"] or 0)
            time.sleep(min(10.0, wait))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except Exception:
            time.sleep(0.2)
    raise SystemExit(f"bench: {url} did not answer within {seconds:.0f}s")


def seed(settings, students: int) -> int:  # type: ignore[no-untyped-def]
    from sqlalchemy import insert

    from grader.assignment import load_assignment
    from web.auth.views import hash_password
    from web.demo import add_course
    from worker.db import get_engine
    from worker.migrate import ensure_schema
    from worker.models import Enrollment, User
    from worker.submit import register_assignment

    ensure_schema(settings.database_url)
    course = add_course(settings, "bench", "Bench course")
    # A snapshot: the bench grades the same checks from start to end, whatever is edited meanwhile.
    snapshot = settings.data_dir / "activations"
    shutil.copytree(ROOT / "assignments" / "activations", snapshot)
    register_assignment(load_assignment(snapshot), settings, course)
    digest = hash_password(PASSWORD)  # one hash for all: scrypt 300 times is not the subject
    with get_engine(settings.database_url).begin() as conn:
        for i in range(students):
            uid = conn.scalar(
                insert(User).values(name=f"s{i:03d}", password_hash=digest).returning(User.id)
            )
            conn.execute(insert(Enrollment).values(user_id=uid, course_id=course, role="student"))
    return course


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--students", type=int, default=300)
    ap.add_argument("--ramp", type=float, default=60.0)
    ap.add_argument("--web-workers", type=int, default=2)
    ap.add_argument("--grade-workers", type=int, default=1)
    ap.add_argument("--poll", type=float, default=1.0, help="seconds between polls while running")
    ap.add_argument(
        "--max-wait", type=float, default=600.0, help="stop watching this long after the ramp"
    )
    args = ap.parse_args()
    # timeout(1) and Ctrl-C alike: the servers below are stopped in the finally clause.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    folder = Path(tempfile.mkdtemp(prefix="dlgrade-bench-portal-"))
    folder.chmod(0o755)
    envs = ROOT / ".data" / "envs"
    if envs.exists():
        (folder / "envs").symlink_to(envs)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DLGRADE_")}
    env.update(
        DLGRADE_DATA_DIR=str(folder),
        DLGRADE_SANDBOX="local",
        DLGRADE_SECRET_KEY=uuid.uuid4().hex,
        DLGRADE_RATE_LIMIT="1000/3600",
        PYTHONUNBUFFERED="1",
    )
    os.environ.update(env)
    from worker.config import load_settings

    settings = load_settings()
    course = seed(settings, args.students)
    bin_dir = Path(sys.executable).parent
    port = free_port()
    procs: list[subprocess.Popen[bytes]] = []
    log = open(folder / "servers.log", "wb")  # noqa: SIM115
    try:
        procs.append(subprocess.Popen(
            [str(bin_dir / "gunicorn"), "--workers", str(args.web_workers), "--threads", "8",
             "--bind", f"127.0.0.1:{port}", "web.wsgi:app"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        ))  # fmt: skip
        for _ in range(args.grade_workers):
            procs.append(subprocess.Popen(
                [str(bin_dir / "dlgrade"), "worker", "--queues", "cpu", "--concurrency", "1",
                 "--name", f"bench-{uuid.uuid4().hex[:6]}@%h"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            ))  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        wait_for(base + "/login", 60)

        waits: list[float] = []
        unfinished: list[str] = []
        failures: list[str] = []
        started = time.monotonic()
        deadline = started + args.ramp + args.max_wait

        def one(i: int) -> None:
            time.sleep(args.ramp * i / max(1, args.students))  # spread over the ramp
            try:
                took = Student(base, f"s{i:03d}").journey(course, args.poll, deadline)
                (unfinished.append(f"s{i:03d}") if took is None else waits.append(took))
            except Exception as err:  # counted, and shown below
                failures.append(f"s{i:03d}: {err}")

        with ThreadPoolExecutor(max_workers=min(args.students, 200)) as pool:
            list(pool.map(one, range(args.students)))
        total = time.monotonic() - started
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        log.close()

    from sqlalchemy import func, select

    from worker.db import get_engine
    from worker.models import GradeReport, Submission

    with get_engine(settings.database_url).connect() as conn:
        subs = conn.scalar(select(func.count()).select_from(Submission))
        per = conn.execute(
            select(GradeReport.submission_id, func.count()).group_by(GradeReport.submission_id)
        ).all()
    once = sum(1 for _, n in per if n == 1)
    twice = sum(1 for _, n in per if n > 1)
    print(
        f"portal bench: {args.students} students over {args.ramp:.0f}s, gunicorn "
        f"{args.web_workers}x8 threads, {args.grade_workers} grading worker(s), SQLite"
    )
    print(f"{'request':<22}{'count':>7}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}")
    for kind in sorted(latencies):
        v = latencies[kind]
        print(f"{kind:<22}{len(v):>7}{errors[kind]:>8}{pct(v, 0.5) * 1000:>9.0f}"
              f"{pct(v, 0.95) * 1000:>9.0f}")  # fmt: skip
    pages = [x for k, v in latencies.items() if k.startswith("GET") for x in v]
    print(f"all page GETs p95: {pct(pages, 0.95) * 1000:.0f} ms (aim: under 200 ms)")
    print(
        f"submissions {subs}, graded exactly once {once}, more than once {twice}, "
        f"not graded within --max-wait {len(unfinished)}, failures {len(failures)}"
    )
    if waits:
        print(f"hand-in to graded: median {statistics.median(waits):.1f}s, "
              f"max {max(waits):.1f}s; all done after {total:.0f}s")  # fmt: skip
    for f in failures[:5]:
        print("  ", f)
    shutil.rmtree(folder, ignore_errors=True)
    return 0 if not failures and not twice and subs == args.students else 1


if __name__ == "__main__":
    sys.exit(main())
