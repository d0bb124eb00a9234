"""Workers at the deadline rush: throughput against the ideal, and fairness, side by side.

    python bench/bench_workers.py [--database postgres|sqlite] [--sandbox local|docker]
                                  [--students 20] [--each 10] [--busy 50] [--workers 2]

Everything real: a private redis-server (append-only file on), PostgreSQL (the
one scripts/start_services.sh starts; a fresh database) or SQLite, two
``dlgrade worker`` processes (concurrency 1; local sandbox unless --sandbox docker), and the
activations assignment (45 checks) graded for its solution and its mutants.

1. Bare grading: ``grader.engine.grade`` called in this process, one
   submission after another, no queue: the mean time t of one grading.
   Then WORKERS such loops side by side, in processes of their own: plain ones
   (the grader alone) and ones carrying a worker's imports (Celery, SQLAlchemy,
   Alembic), whose every sandbox start forks that much more memory. Each is
   measured before and after the rush, which brackets the machine's drift.
2. Rush: STUDENTS x EACH submissions enqueued at once; throughput in gradings
   per minute from the first submit to the last report, against the ideal
   2 workers / t and against the side-by-side loops. Every submission must end
   with exactly one report. Where a grading's time went, from the workers' own
   log lines: the engine, the queue's work around it in the task (claim, stage,
   report, dispatch), and Celery's between tasks (ack, fetch, hand-off).
3. Fairness: a busy student submits 50, then a quiet one submits 1; the quiet
   one's wait (submit to report) with the fair window (2 per student) and with
   plain FIFO (an unbounded window), in gradings of mean length.
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select, text  # noqa: E402

from grader.assignment import load_assignment  # noqa: E402
from grader.engine import grade  # noqa: E402
from grader.sandbox.local import ensure_env, env_dir  # noqa: E402

ACTIVATIONS = ROOT / "assignments" / "activations"
PG_URL = os.environ.get(
    "DLGRADE_TEST_DATABASE_URL", "postgresql+psycopg://dlgrade:dlgrade@127.0.0.1:5432/dlgrade"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, what: str, every: float = 0.2):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise SystemExit(f"bench: timed out waiting for {what}")
        time.sleep(every)
    return value


def submissions(work: Path) -> list[Path]:
    """The solution and each mutant (appended to the solution, as validation does)."""
    spec = load_assignment(ACTIVATIONS)
    solution = ACTIVATIONS / "solution" / "activations.py"
    files = [solution]
    for n, mutant in enumerate(spec.mutants):
        path = work / f"mutant{n}.py"
        path.write_text(solution.read_text() + "\n\n" + (ACTIVATIONS / mutant.file).read_text())
        files.append(path)
    return files


class Services:
    def __init__(self, work: Path, database: str) -> None:
        self.work = work
        self.redis_port = free_port()
        self.redis = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.redis_port),
             "--dir", str(work), "--appendonly", "yes", "--save", ""],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        import redis

        client = redis.Redis(port=self.redis_port)
        wait_for(lambda: _pings(client), 20, "redis-server")
        self.pg_name = None
        if database == "postgres":
            self.pg_name = f"dlgrade_bench_{uuid.uuid4().hex[:8]}"
            with create_engine(PG_URL, isolation_level="AUTOCOMMIT").connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{self.pg_name}"'))
            self.database_url = PG_URL.rsplit("/", 1)[0] + "/" + self.pg_name
        else:
            self.database_url = f"sqlite:///{work / 'dlgrade.sqlite'}"
        self.broker_url = f"redis://127.0.0.1:{self.redis_port}/0"

    def close(self) -> None:
        self.redis.kill()
        self.redis.wait()
        if self.pg_name:
            from worker.db import get_engine

            get_engine(self.database_url).dispose()
            with create_engine(PG_URL, isolation_level="AUTOCOMMIT").connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)'))


def _pings(client) -> bool:  # type: ignore[no-untyped-def]
    try:
        return bool(client.ping())
    except Exception:
        return False


def start_workers(
    env: dict[str, str], logs: Path, tag: str, workers: int
) -> list[subprocess.Popen[bytes]]:
    procs = []
    for n in range(workers):
        log = logs / f"worker-{tag}-{n}.log"
        with open(log, "wb") as out:
            procs.append(
                subprocess.Popen(
                    [
                        str(Path(sys.executable).parent / "dlgrade"),
                        "worker",
                        "--concurrency",
                        "1",
                        "--name",
                        f"bench{n}-{tag}@%h",
                    ],
                    env=env,
                    cwd=ROOT,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
    for n in range(workers):
        log = logs / f"worker-{tag}-{n}.log"
        wait_for(lambda log=log: b" ready." in log.read_bytes(), 60, f"worker {n} to start")
    return procs


def stop_workers(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        if p.returncode is None:  # never a group whose leader we reaped: its pid is reused
            os.killpg(p.pid, signal.SIGKILL)
        p.wait()


SIDE_BY_SIDE = """
import statistics, sys, time
from grader.assignment import load_assignment
from grader.engine import grade
if sys.argv[4] == "worker-weight":
    import worker.migrate, worker.tasks  # noqa: F401  (what a worker process holds)
spec = load_assignment(sys.argv[1])
files = sys.argv[5:]
grade(spec, files[0], sandbox=sys.argv[3])
times = []
for k in range(int(sys.argv[2])):
    t0 = time.perf_counter()
    grade(spec, files[k % len(files)], sandbox=sys.argv[3])
    times.append(time.perf_counter() - t0)
print(statistics.mean(times))
"""


def side_by_side(
    files: list[Path], n: int, processes: int, sandbox: str, weight: str = "plain"
) -> float:
    """Mean bare grading time with ``processes`` grading loops running at once.

    ``weight`` "worker-weight" makes each loop's process import what a worker's does.
    """
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                SIDE_BY_SIDE,
                str(ACTIVATIONS),
                str(n),
                sandbox,
                weight,
                *map(str, files),
            ],
            stdout=subprocess.PIPE,
            cwd=ROOT,
        )
        for _ in range(processes)
    ]
    return statistics.mean(float(p.communicate()[0]) for p in procs)


RUN_LINE = re.compile(rb"run \d+ attempt \d+: \w+ in ([\d.]+)s \(engine ([\d.]+)s\)")


def worker_timings(logs: list[Path]) -> tuple[float, float, int]:
    """Mean seconds of a task's grading call and of its engine, from the workers' logs."""
    found = [tuple(map(float, m)) for log in logs for m in RUN_LINE.findall(log.read_bytes())]
    if not found:
        return float("nan"), float("nan"), 0
    return statistics.mean(t for t, _ in found), statistics.mean(e for _, e in found), len(found)


def rows(settings, ids: list[int]) -> list[tuple]:  # type: ignore[no-untyped-def]
    from worker.db import session_factory
    from worker.models import GradeReport, GradeRun, Submission

    with session_factory(settings.database_url)() as s:
        return s.execute(
            select(
                Submission.id,
                Submission.submitted_at,
                func.count(GradeReport.id),
                func.max(GradeReport.created_at),
                func.max(GradeRun.attempt),
            )
            .join(GradeRun, GradeRun.submission_id == Submission.id)
            .outerjoin(GradeReport, GradeReport.run_id == GradeRun.id)
            .where(Submission.id.in_(ids))
            .group_by(Submission.id, Submission.submitted_at)
        ).all()


def graded(settings, ids: list[int]) -> bool:  # type: ignore[no-untyped-def]
    return sum(1 for r in rows(settings, ids) if r[2] >= 1) == len(ids)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="postgres")
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--each", type=int, default=10)
    parser.add_argument("--bare", type=int, default=12, help="gradings timed without a queue")
    parser.add_argument("--busy", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sandbox", choices=("local", "docker"), default="local")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="dlgrade-bench-workers-"))
    work.chmod(0o755)
    data = work / "data"
    data.mkdir()
    os.environ.pop("DLGRADE_DATA_DIR", None)
    ensure_env("numpy")
    (data / "envs").symlink_to(env_dir("numpy").parent)
    os.environ["DLGRADE_DATA_DIR"] = str(data)
    services = Services(work, args.database)
    try:
        run(args, work, data, services)
    finally:
        services.close()
        if not os.environ.get("DLGRADE_BENCH_KEEP"):
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}")


def bare_gradings(spec, files: list[Path], n: int, sandbox: str) -> list[float]:  # type: ignore[no-untyped-def]
    """Seconds of ``n`` gradings called here, one after another: no queue, no database."""
    times = []
    for path in itertools.islice(itertools.cycle(files), n):
        t0 = time.perf_counter()
        grade(spec, path, sandbox=sandbox)
        times.append(time.perf_counter() - t0)
    return times


def run(args, work: Path, data: Path, services: Services) -> None:  # type: ignore[no-untyped-def]
    from worker.app import publisher
    from worker.config import Settings
    from worker.migrate import upgrade
    from worker.submit import submit

    upgrade(services.database_url)
    spec = load_assignment(ACTIVATIONS)
    files = submissions(work)
    print(
        f"activations: {len(spec.checks)} checks; {len(files)} kinds of submission; "
        f"database {args.database}, broker Redis; {args.workers} workers x concurrency 1; "
        f"{args.sandbox} sandbox"
    )
    grade(spec, files[0], sandbox=args.sandbox)  # warm: imports, caches, images

    def settings_for(window: int) -> Settings:
        return Settings(
            database_url=services.database_url,
            broker_url=services.broker_url,
            data_dir=data,
            sandbox=args.sandbox,
            max_in_flight=10_000,
            rate_limit="100000/60",
            dispatch_per_student=window,
        )

    def env_for(s: Settings) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DLGRADE_")}
        env.update(
            DLGRADE_DATA_DIR=str(s.data_dir), DLGRADE_DATABASE_URL=s.database_url,
            DLGRADE_BROKER_URL=s.broker_url, DLGRADE_SANDBOX=args.sandbox,
            DLGRADE_MAX_IN_FLIGHT=str(s.max_in_flight), DLGRADE_RATE_LIMIT=s.rate_limit,
            DLGRADE_DISPATCH_PER_STUDENT=str(s.dispatch_per_student),
        )  # fmt: skip
        return env

    # 1 and 2. Bare gradings, alone and side by side, just before and just after the rush
    # (the machine's load drifts; the mean of both brackets it).
    def references() -> tuple[list[float], float, float]:
        alone = bare_gradings(spec, files, args.bare, args.sandbox)
        plain = side_by_side(files, args.bare, args.workers, args.sandbox)
        heavy = side_by_side(files, args.bare, args.workers, args.sandbox, "worker-weight")
        return alone, plain, heavy

    fair = settings_for(2)
    bare, plain_before, heavy_before = references()
    procs = start_workers(env_for(fair), work, "rush", args.workers)
    try:
        publish = publisher(fair)
        kinds = itertools.cycle(files)
        t0 = time.time()
        ids = [
            submit(spec, next(kinds), f"student{s:02d}", fair, publish).submission_id
            for _ in range(args.each)
            for s in range(args.students)
        ]
        enqueued = time.time() - t0
        wait_for(lambda: graded(fair, ids), 1800, "the rush to be graded", every=0.5)
        result = rows(fair, ids)
    finally:
        stop_workers(procs)
    task_s, engine_s, logged = worker_timings(sorted(work.glob("worker-rush-*.log")))
    bare_after, plain_after, heavy_after = references()
    bare += bare_after
    t = statistics.mean(bare)
    t_side = (plain_before + plain_after) / 2
    t_heavy = (heavy_before + heavy_after) / 2
    print(f"\nbare grading: mean {t:.3f} s over {len(bare)}, half before, half after the rush")
    print(
        f"  {args.workers} bare grading loops side by side: mean {t_side:.3f} s "
        f"({plain_before:.3f} before, {plain_after:.3f} after)"
    )
    print(
        f"  the same in processes of a worker's weight: mean {t_heavy:.3f} s "
        f"({heavy_before:.3f} before, {heavy_after:.3f} after)"
    )

    first = min(r[1] for r in result)
    last = max(r[3] for r in result)
    wall = (last - first).total_seconds()
    reports = [r[2] for r in result]
    attempts = [r[4] for r in result]
    measured = len(ids) / wall * 60
    ideal = args.workers / t * 60
    side_ideal = args.workers / t_side * 60
    print(
        f"\nrush: {len(ids)} submissions from {args.students} students "
        f"(enqueued in {enqueued:.1f} s), graded in {wall:.1f} s"
    )
    print(
        f"  reports per submission: {sorted(set(reports))}; "
        f"attempts per run: {sorted(set(attempts))}"
    )
    print(
        f"  throughput {measured:.1f} gradings/min; ideal {args.workers}/t = {ideal:.1f}/min; "
        f"ratio {measured / ideal:.3f} (aim >= 0.9)"
    )
    print(
        f"  against {args.workers} bare loops side by side ({side_ideal:.1f}/min): "
        f"ratio {measured / side_ideal:.3f}"
    )
    heavy_ideal = args.workers / t_heavy * 60
    print(
        f"  against those loops at a worker's weight ({heavy_ideal:.1f}/min): "
        f"ratio {measured / heavy_ideal:.3f}"
    )
    per_grading = wall * args.workers / len(ids)
    print(
        f"  per grading and worker {per_grading * 1000:.1f} ms: engine {engine_s * 1000:.1f}, "
        f"queue work in the task {(task_s - engine_s) * 1000:.1f}, "
        f"Celery and idle between tasks {(per_grading - task_s) * 1000:.1f} "
        f"(means of {logged} logged gradings)"
    )

    # 3. Fairness: the quiet student's one submission behind a busy one's fifty.
    print(f"\nfairness: 'busy' submits {args.busy}, then 'quiet' submits 1")
    waits = {}
    for label, window in (("fair (window 2)", 2), ("FIFO (no window)", 1_000_000)):
        s = settings_for(window)
        procs = start_workers(env_for(s), work, f"fair{window}", args.workers)
        try:
            publish = publisher(s)
            busy = [
                submit(spec, files[0], f"busy-{window}", s, publish).submission_id
                for _ in range(args.busy)
            ]
            quiet = submit(spec, files[0], f"quiet-{window}", s, publish).submission_id
            wait_for(lambda s=s, q=quiet: graded(s, [q]), 1800, "quiet's grading", every=0.1)
            (row,) = rows(s, [quiet])
            waits[label] = (row[3] - row[1]).total_seconds()
            wait_for(lambda s=s, b=busy: graded(s, b), 1800, "busy's gradings", every=0.5)
        finally:
            stop_workers(procs)
        print(
            f"  {label:<18} quiet waited {waits[label]:6.2f} s = {waits[label] / t:5.1f} "
            "gradings of mean length"
        )
    fair_wait, fifo_wait = waits["fair (window 2)"], waits["FIFO (no window)"]
    print(f"  fair / FIFO wait: {fair_wait / fifo_wait:.3f}")


if __name__ == "__main__":
    main()
