"""The deadline rush, measured: homeworks through the JSON API in a minute, busy loops beside.

    python bench/bench_rush.py [--count 300] [--ramp 60] [--mnist-every 20]
                               [--busy-per-core 2] [--sandbox local|docker] [--max-wait 3600]

Everything real on this machine: gunicorn serving ``web.wsgi:app`` and one
``dlgrade worker`` at its default concurrency (as many gradings as the cores
hold, worker/concurrency.py), SQLite and the embedded broker, as ``make demo``.
COUNT students each hand in one homework through ``POST /api/v1/.../submissions``
with an API token, spread over RAMP seconds: mostly activations (two in three
the solution, one in three a known-wrong mutant), every MNIST_EVERY-th the
NumPy MLP on MNIST (its solution or a mutant, alternately). Meanwhile
BUSY_PER_CORE busy loops per core run beside them (the rest of a loaded host),
and a prober reads a page every 0.25 s.

The course is a full one: CLASS students (the rush's among them) and 10
assignments (the two above and 8 from earlier in the term), each student with
3 graded submissions to each from before (bench/bench_gradebook.py's history:
reports of 45 checks, a late one and an override here and there). Its TA reads
the gradebook page, signed in through the login form, 20 times before the rush
(servers up, no busy loops, nothing grading: the idle run) and then once a
second while the rush lasts, the rush's reports landing in that same book.

Checked: every submission has exactly one report; every correct one is graded
in full; every wrong one fails exactly the checks its manifest entry names (its
proper verdict); none ends as a platform error. Printed: throughput (gradings
per minute from the first hand-in to the last report) against the ideal (the
worker's concurrency over the mean bare grading time, measured here before the
rush without the busy loops), p50 / p95 time from hand-in to report, and
p50 / p95 of the pages read during the rush, and the gradebook's p50 / p95 idle
and during the rush, side by side.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
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
import urllib.error
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from grader.assignment import Assignment, load_assignment  # noqa: E402
from grader.engine import grade  # noqa: E402
from worker.concurrency import worker_concurrency  # noqa: E402
from worker.remote import multipart  # noqa: E402

ACTIVATIONS = "activations"
MNIST = "mnist-numpy-mlp"
PASSWORD = "bench password"
TA = "rush-ta"


@dataclass
class Homework:
    student: str
    slug: str
    path: Path
    fails: frozenset[str]  # the checks it must fail: none for a solution
    token: str = ""
    submission: int | None = None
    handed: float = 0.0  # time.time() of the hand-in
    refused: str = ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def wait_for(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except Exception:
            time.sleep(0.2)
    raise SystemExit(f"bench: {url} did not answer within {seconds:.0f}s")


def mutant_file(spec: Assignment, mutant, work: Path) -> Path:  # type: ignore[no-untyped-def]
    """The solution with the mutant's definitions appended, as validation builds it."""
    (entry,) = spec.student_files
    solution = spec.root / "solution" / entry
    path = work / f"{spec.slug}-{Path(mutant.file).stem}" / entry
    path.parent.mkdir(parents=True)
    path.write_text(solution.read_text() + "\n\n" + (spec.root / mutant.file).read_text())
    return path


def homeworks(specs: dict[str, Assignment], count: int, mnist_every: int, work: Path) -> list:  # type: ignore[type-arg]
    kinds: dict[str, list[tuple[Path, frozenset[str]]]] = {}
    for slug, spec in specs.items():
        (entry,) = spec.student_files
        right = [(spec.root / "solution" / entry, frozenset())]
        wrong = [(mutant_file(spec, m, work), frozenset(m.fails)) for m in spec.mutants]
        kinds[slug] = [right[0], *wrong]
    out, seen = [], {ACTIVATIONS: 0, MNIST: 0}
    for i in range(count):
        slug = MNIST if mnist_every and i % mnist_every == mnist_every - 1 else ACTIVATIONS
        n = seen[slug]
        seen[slug] += 1
        options = kinds[slug]
        # Activations: two in three right; MNIST (costly): right and wrong alternately.
        if slug == ACTIVATIONS:
            path, fails = options[0] if n % 3 else options[1 + (n // 3) % (len(options) - 1)]
        else:
            path, fails = options[0] if n % 2 == 0 else options[1 + (n // 2) % (len(options) - 1)]
        out.append(Homework(f"s{i:03d}", slug, path, fails))
    return out


def seed(settings, specs: dict[str, Assignment], work: list[Homework]) -> int:  # type: ignore[no-untyped-def]
    from sqlalchemy import insert

    from web.api.tokens import create_token
    from web.auth.views import hash_password
    from web.demo import add_course
    from worker.db import get_engine, session_factory
    from worker.migrate import ensure_schema
    from worker.models import Enrollment, User
    from worker.submit import register_assignment

    ensure_schema(settings.database_url)
    course = add_course(settings, "rush", "Deadline rush")
    for spec in specs.values():
        register_assignment(spec, settings, course)
    digest = hash_password(PASSWORD)
    ids = {}
    with get_engine(settings.database_url).begin() as conn:
        for hw in work:
            uid = conn.scalar(
                insert(User).values(name=hw.student, password_hash=digest).returning(User.id)
            )
            conn.execute(insert(Enrollment).values(user_id=uid, course_id=course, role="student"))
            ids[hw.student] = uid
    Session = session_factory(settings.database_url)
    with Session() as s:
        for hw in work:
            hw.token = create_token(s, ids[hw.student], "rush", "student")[1]
    return course


def fill_the_course(settings, course: int, work: list[Homework], size: int) -> None:  # type: ignore[no-untyped-def]
    """The rest of a term's course: students up to ``size``, 8 earlier assignments, each
    student's 3 graded submissions to each of the 10, and a TA who signs in."""
    import random

    from bench_gradebook import add_assignments, add_history, add_students
    from sqlalchemy import insert, select

    from web.auth.views import hash_password
    from worker.db import get_engine
    from worker.models import Assignment, Enrollment, User

    with get_engine(settings.database_url).begin() as conn:
        rush = list(conn.scalars(select(User.id).where(User.name.in_([hw.student for hw in work]))))
        others = [(f"c{n:03d}", f"c{n}@uni.example") for n in range(max(0, size - len(rush)))]
        students = rush + add_students(conn, course, others)
        ta = conn.scalar(
            insert(User).values(name=TA, password_hash=hash_password(PASSWORD)).returning(User.id)
        )
        conn.execute(insert(Enrollment).values(user_id=ta, course_id=course, role="ta"))
        earlier = add_assignments(conn, course, [f"hw{k:02d}" for k in range(8)])
        current = list(conn.scalars(select(Assignment.id).where(Assignment.course_id == course)))
        add_history(conn, ta, students, sorted(set(current) | set(earlier)), 3, random.Random(7))


class GradebookReader(threading.Thread):
    """The TA reading the course's gradebook page once a second, signed in by the form."""

    def __init__(self, base: str, course: int, students: int) -> None:
        super().__init__(daemon=True)
        self.url = f"{base}/staff/courses/{course}/"
        self.students = students
        self.stop = threading.Event()
        self.seconds: list[float] = []
        self.errors = 0
        jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        form = self.opener.open(f"{base}/login", timeout=60).read().decode()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)
        token = token or re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert token, "no CSRF token on the login form"
        body = urllib.parse.urlencode(
            {"csrf_token": token.group(1), "name": TA, "password": PASSWORD}
        ).encode()
        self.opener.open(f"{base}/login", data=body, timeout=60).read()

    def read(self) -> None:
        t0 = time.perf_counter()
        try:
            with self.opener.open(self.url, timeout=60) as r:
                page = r.read().decode()
            elapsed = time.perf_counter() - t0
            if page.count('class="student"') != self.students:
                raise ValueError("not the whole class on the page (signed out?)")
            self.seconds.append(elapsed)
        except Exception:
            self.errors += 1

    def run(self) -> None:
        while not self.stop.is_set():
            self.read()
            self.stop.wait(1.0)


def hand_in(base: str, course: int, hw: Homework) -> None:
    body, ctype = multipart([(hw.path.name, hw.path.read_bytes())])
    url = f"{base}/api/v1/courses/{course}/assignments/{hw.slug}/submissions"
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {hw.token}", "Content-Type": ctype},
    )
    hw.handed = time.time()
    try:
        with urllib.request.urlopen(request, timeout=120) as r:
            hw.submission = int(json.loads(r.read())["id"])
    except urllib.error.HTTPError as err:  # counted and shown
        hw.refused = f"{err}: {err.read()[:300]!r}"
    except Exception as err:
        hw.refused = str(err)


class Prober(threading.Thread):
    """Reads a page every 0.25 s while the rush lasts: what a student or TA waits for."""

    def __init__(self, base: str, token: str) -> None:
        super().__init__(daemon=True)
        self.base, self.token = base, token
        self.stop = threading.Event()
        self.seconds: list[float] = []
        self.errors = 0

    def run(self) -> None:
        pages = ["/login", "/api/v1/courses"]
        k = 0
        while not self.stop.is_set():
            request = urllib.request.Request(
                self.base + pages[k % 2], headers={"Authorization": f"Bearer {self.token}"}
            )
            k += 1
            t0 = time.perf_counter()
            try:
                with urllib.request.urlopen(request, timeout=60) as r:
                    r.read()
                self.seconds.append(time.perf_counter() - t0)
            except Exception:
                self.errors += 1
            self.stop.wait(0.25)


def outcome(settings, work: list[Homework]) -> dict[int, list[dict]]:  # type: ignore[no-untyped-def,type-arg]
    """Each submission's reports (as stored), with the time each was stored."""
    from sqlalchemy import select

    from worker.db import get_engine
    from worker.models import GradeReport

    ids = [hw.submission for hw in work if hw.submission is not None]
    found: dict[int, list[dict]] = {i: [] for i in ids}  # type: ignore[type-arg]
    with get_engine(settings.database_url).connect() as conn:
        rows = conn.execute(
            select(GradeReport.submission_id, GradeReport.report, GradeReport.created_at).where(
                GradeReport.submission_id.in_(ids)
            )
        ).all()
    for sub, report, created in rows:
        found[sub].append({**report, "_stored": created.timestamp()})
    return found


def runs_left(settings, work: list[Homework]) -> int:  # type: ignore[no-untyped-def]
    """Submissions whose run is neither done nor given up."""
    from sqlalchemy import func, select

    from worker.db import get_engine
    from worker.models import GradeRun

    ids = [hw.submission for hw in work if hw.submission is not None]
    with get_engine(settings.database_url).connect() as conn:
        return int(
            conn.scalar(
                select(func.count())
                .select_from(GradeRun)
                .where(GradeRun.submission_id.in_(ids), GradeRun.status.not_in(["done", "error"]))
            )
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=300, help="homeworks handed in")
    ap.add_argument("--ramp", type=float, default=60.0, help="seconds to hand them all in")
    ap.add_argument("--mnist-every", type=int, default=20, help="every Nth is MNIST (0: none)")
    ap.add_argument("--busy-per-core", type=int, default=2)
    ap.add_argument("--sandbox", choices=("local", "docker"), default="local")
    ap.add_argument("--web-workers", type=int, default=2)
    ap.add_argument("--class-size", type=int, default=300, help="students of the course")
    ap.add_argument("--max-wait", type=float, default=3600.0, help="after the ramp")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    folder = Path(tempfile.mkdtemp(prefix="dlgrade-bench-rush-"))
    folder.chmod(0o755)
    for shared in ("envs", "datasets", "wheels"):  # built once for the machine
        if (ROOT / ".data" / shared).exists():
            (folder / shared).symlink_to(ROOT / ".data" / shared)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DLGRADE_")}
    env.update(
        DLGRADE_DATA_DIR=str(folder),
        DLGRADE_SANDBOX=args.sandbox,
        DLGRADE_SECRET_KEY=uuid.uuid4().hex,
        DLGRADE_RATE_LIMIT="100000/3600",
        DLGRADE_MAX_IN_FLIGHT="100000",
        PYTHONUNBUFFERED="1",
    )
    os.environ.update(env)
    from worker.config import load_settings

    settings = load_settings()
    specs = {}
    for slug in (ACTIVATIONS, MNIST):
        # A snapshot: the same checks from start to end, whatever is edited meanwhile.
        shutil.copytree(ROOT / "assignments" / slug, folder / "assignments" / slug)
        specs[slug] = load_assignment(folder / "assignments" / slug)
    work = homeworks(specs, args.count, args.mnist_every, folder / "mutants")
    course = seed(settings, specs, work)
    fill_the_course(settings, course, work, args.class_size)
    class_size = max(args.class_size, len(work))
    concurrency, how = worker_concurrency(settings)

    # The ideal: bare gradings on this host before the rush (no queue, no busy loops).
    bare: dict[str, float] = {}
    for slug in {hw.slug for hw in work}:
        t0 = time.perf_counter()
        report = grade(specs[slug], next(hw.path for hw in work if hw.slug == slug),
                       sandbox=args.sandbox)  # fmt: skip
        bare[slug] = time.perf_counter() - t0
        print(f"bare grading of {slug}: {bare[slug]:.1f} s ({report.status})", flush=True)
    mean_bare = statistics.mean(bare[hw.slug] for hw in work)
    ideal = concurrency * 60 / mean_bare

    bin_dir = Path(sys.executable).parent
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(folder / "servers.log", "wb")  # noqa: SIM115
    procs: list[subprocess.Popen[bytes]] = []
    loops: list[subprocess.Popen[bytes]] = []
    prober = Prober(base, work[0].token)
    book: GradebookReader | None = None
    try:
        procs.append(subprocess.Popen(
            [str(bin_dir / "gunicorn"), "--workers", str(args.web_workers), "--threads", "8",
             "--bind", f"127.0.0.1:{port}", "web.wsgi:app"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        ))  # fmt: skip
        procs.append(subprocess.Popen(
            [str(bin_dir / "dlgrade"), "worker", "--queues", "cpu",
             "--name", f"rush-{uuid.uuid4().hex[:6]}@%h"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        ))  # fmt: skip
        wait_for(base + "/login", 60)
        book = GradebookReader(base, course, class_size)
        for _ in range(20):  # the idle run: servers up, nothing else running
            book.read()
        idle = list(book.seconds)
        book.seconds.clear()
        cores = os.cpu_count() or 1
        loops = [
            subprocess.Popen([sys.executable, "-c", "while True: pass"])
            for _ in range(args.busy_per_core * cores)
        ]
        prober.start()
        book.start()
        started = time.time()

        def one(i: int) -> None:
            time.sleep(max(0.0, started + args.ramp * i / max(1, len(work)) - time.time()))
            hand_in(base, course, work[i])

        with ThreadPoolExecutor(max_workers=32) as pool:
            list(pool.map(one, range(len(work))))
        handed_in = time.time() - started
        print(f"handed in {len(work)} in {handed_in:.1f} s; grading...", flush=True)
        deadline = time.monotonic() + args.max_wait
        while runs_left(settings, work) and time.monotonic() < deadline:
            time.sleep(1.0)
        prober.stop.set()
        book.stop.set()
    finally:
        for p in loops:
            p.kill()  # our own children, never reaped before this: their pids are still ours
            p.wait()
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        log.close()

    found = outcome(settings, work)
    wrong: list[str] = []
    ends: list[float] = []
    waits: list[float] = []
    counts = {"once": 0, "never": 0, "more": 0, "platform": 0}
    for hw in work:
        if hw.submission is None:
            wrong.append(f"{hw.student}: refused at hand-in: {hw.refused[:200]}")
            continue
        reports = found[hw.submission]
        counts["once" if len(reports) == 1 else "never" if not reports else "more"] += 1
        if not reports:
            wrong.append(f"{hw.student} ({hw.slug}): no report")
            continue
        report = reports[0]
        ends.append(report["_stored"])
        waits.append(report["_stored"] - hw.handed)
        if report["status"] != "graded":
            counts["platform"] += 1
            wrong.append(f"{hw.student} ({hw.slug}): {report['status']}: {report['message'][:200]}")
            continue
        failed = {c["name"] for c in report["checks"] if c["status"] != "passed"}
        if failed != hw.fails:
            wrong.append(
                f"{hw.student} ({hw.slug}, {hw.path.parent.name}): failed {sorted(failed)}, "
                f"expected {sorted(hw.fails)}"
            )
        elif not hw.fails and report["score"] != report["max_score"]:
            wrong.append(f"{hw.student} ({hw.slug}): {report['score']} of {report['max_score']}")
    right = sum(1 for hw in work if not hw.fails)
    print(
        f"\nrush: {len(work)} homeworks ({right} correct, {len(work) - right} wrong; "
        f"{sum(hw.slug == MNIST for hw in work)} MNIST) handed in over {args.ramp:.0f} s through "
        f"the JSON API; {args.sandbox} sandbox; worker concurrency {concurrency} ({how}); "
        f"{args.busy_per_core} busy loops per core beside"
    )
    print(
        f"reports: exactly one {counts['once']}, none {counts['never']}, more than one "
        f"{counts['more']}; platform errors {counts['platform']}; wrong verdicts "
        f"{len(wrong) - counts['never'] - counts['platform']}"
    )
    for line in wrong[:10]:
        print("  ", line)
    if ends:
        span = max(ends) - min(hw.handed for hw in work)
        measured = len(ends) * 60 / span
        print(
            f"throughput {measured:.1f} gradings/min (first hand-in to last report {span:.0f} s); "
            f"ideal {concurrency} x 60 / {mean_bare:.1f} s = {ideal:.1f}/min "
            "(bare, before the rush, no busy loops); "
            f"ratio {measured / ideal:.2f}"
        )
        print(f"hand-in to report: p50 {pct(waits, 0.5):.1f} s, p95 {pct(waits, 0.95):.1f} s")
    print(
        f"pages during the rush (/login, /api/v1/courses; {len(prober.seconds)} reads, "
        f"{prober.errors} errors): p50 {pct(prober.seconds, 0.5) * 1000:.0f} ms, "
        f"p95 {pct(prober.seconds, 0.95) * 1000:.0f} ms"
    )
    if book is not None:
        print(
            f"gradebook page ({class_size} students x 10 assignments, 3 graded submissions each "
            f"from before): idle p50 {pct(idle, 0.5) * 1000:.0f} ms, p95 "
            f"{pct(idle, 0.95) * 1000:.0f} ms ({len(idle)} reads); during the rush p50 "
            f"{pct(book.seconds, 0.5) * 1000:.0f} ms, p95 {pct(book.seconds, 0.95) * 1000:.0f} ms "
            f"({len(book.seconds)} reads, {book.errors} errors)"
        )
    if not os.environ.get("DLGRADE_BENCH_KEEP"):
        shutil.rmtree(folder, ignore_errors=True)
    return 0 if not wrong else 1


if __name__ == "__main__":
    sys.exit(main())
