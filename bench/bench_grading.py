"""Grading latency against the bare cost of the student's work, measured side by side.

    python bench/bench_grading.py [--rounds 5] [--sandboxes local,docker] [--worker-rounds 4]

1. activations (45 checks): the instructor's solution graded, against the bare
   time of a fresh interpreter importing the same file and calling its
   functions on inputs of the checks' shapes (the work grading cannot avoid):
   - ``dlgrade grade --sandbox local``: the command line, a process of its own,
     with the grader's bytecode compiled as an installed package has it (the
     bench compiles it first: a checkout run with PYTHONDONTWRITEBYTECODE would
     otherwise compile every module of the grader at every start);
   - the engine in this process (``grader.engine.grade``), local sandbox: one
     started cold, and one taken from a warm local pool
     (grader/sandbox/local_pool.py) that had refilled since the last grading;
   - the engine in this process, Docker: a container started cold, and one
     taken from a warm pool (grader/sandbox/pool.py) that had refilled since
     the last grading, as a worker's pool has between two gradings.
   The variants alternate within each round so every one sees the same load;
   after a pooled grading the bench waits for the pool to refill before the
   next variant, so that no variant pays for the refill. It prints medians, the
   ratio to bare, and where each in-process grading's time went: until the
   runner has loaded the submission (sandbox start, interpreter, imports), the
   checks, and the close (the runner's exit, drained output, removal).
2. A worker's time to report: ``worker.grading.execute_run`` in this process
   (claim, stage, grade, store the report) on a private SQLite database, Docker
   sandbox, without a pool and with one (refilled between runs), alternating.

Homework 1 (mnist-numpy-mlp), whose data is written per grading, has its own
benchmark: bench/bench_mnist_numpy.py.
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader import session as session_module  # noqa: E402
from grader.assignment import load_assignment  # noqa: E402
from grader.engine import grade  # noqa: E402
from grader.sandbox import SandboxSpec, docker_ready  # noqa: E402
from grader.sandbox import pool as pools  # noqa: E402
from grader.sandbox.local import ensure_env  # noqa: E402
from grader.sandbox.local_pool import LocalPool  # noqa: E402

ACTIVATIONS = ROOT / "assignments" / "activations"
SOLUTION = ACTIVATIONS / "solution" / "activations.py"
REFILL_TIMEOUT_S = 120.0

BARE_ACTIVATIONS = """
import sys, numpy as np
sys.path.insert(0, sys.argv[1])
import activations as a
rng = np.random.default_rng(0)
names = ["identity", "binary_step", "sigmoid", "tanh", "arctan", "relu", "leaky_relu",
         "elu", "selu", "swish", "gelu", "softplus", "softsign"]
for n in names:
    for shape in [(6, 5), (4, 5), (2, 3, 4), (10,)]:
        x = rng.standard_normal(shape)
        getattr(a, n)(x); getattr(a, n + "_grad")(x)
a.softmax(rng.standard_normal((6, 10))); a.softmax_jacobian(rng.standard_normal(5))
"""


def timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


# The same interpreter and the same scrubbed environment the sandbox gets (one BLAS
# thread, none of the host's OPENBLAS_* tuning), so that only grading differs.
BARE_ENV = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8"}
BARE_ENV.update({k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")})


def bare(script: str, *args: str, python: str) -> None:
    subprocess.run([python, "-c", script, *args], check=True, env=BARE_ENV)


def cli_local() -> None:
    subprocess.run(
        [sys.executable, "-m", "grader.cli", "grade", str(ACTIVATIONS), str(SOLUTION),
         "--sandbox", "local", "--json"],
        check=True, cwd=ROOT, stdout=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip


class Stages:
    """Where an in-process grading's time goes: until loaded, the checks, the close."""

    def __init__(self) -> None:
        self.current: dict[str, float] | None = None
        self.samples: dict[str, dict[str, list[float]]] = {}
        real_load = session_module.RunnerSession.ensure_loaded
        real_close = session_module.RunnerSession.close
        stages = self

        def ensure_loaded(session):  # type: ignore[no-untyped-def]
            first = session.starts == 0
            try:
                return real_load(session)
            finally:
                if first and stages.current is not None:
                    stages.current["loaded"] = time.perf_counter()

        def close(session):  # type: ignore[no-untyped-def]
            if stages.current is not None:
                stages.current["closing"] = time.perf_counter()
            real_close(session)

        session_module.RunnerSession.ensure_loaded = ensure_loaded  # type: ignore[method-assign]
        session_module.RunnerSession.close = close  # type: ignore[method-assign]

    def grade(self, name: str, sandbox: str) -> float:
        marks = {"start": time.perf_counter()}
        self.current = marks
        try:
            grade(load_assignment(ACTIVATIONS), SOLUTION, sandbox=sandbox)
        finally:
            self.current = None
        marks["end"] = time.perf_counter()
        parts = self.samples.setdefault(name, {})
        for stage, (a, b) in {
            "start to loaded": ("start", "loaded"),
            "checks": ("loaded", "closing"),
            "close and report": ("closing", "end"),
        }.items():
            if a in marks and b in marks:
                parts.setdefault(stage, []).append(marks[b] - marks[a])
        return marks["end"] - marks["start"]


def report(name: str, samples: dict[str, list[float]], base: str) -> None:
    b = statistics.median(samples[base])
    print(f"\n{name} (median of {len(samples[base])} rounds)")
    for key, values in samples.items():
        m = statistics.median(values)
        print(f"  {key:<36} {m:8.3f} s   ratio to bare {m / b:6.2f}")


def wait_refilled(pool: pools.WarmPool) -> None:
    deadline = time.monotonic() + REFILL_TIMEOUT_S
    while pool.waiting() < pool.size:
        if time.monotonic() > deadline:
            raise SystemExit("bench: the pool did not refill")
        time.sleep(0.05)


def gradings(
    args: argparse.Namespace,
    with_docker: bool,
    pool: pools.ContainerPool | None,
    local_pool: LocalPool | None,
) -> None:
    env_python = str(ensure_env("numpy") / "bin" / "python3")
    stages = Stages()
    samples: dict[str, list[float]] = {"bare import + calls": []}
    if "local" in args.kinds:
        samples["dlgrade grade --sandbox local (CLI)"] = []
        samples["engine in-process, local cold"] = []
        samples["engine in-process, local pooled"] = []
    if with_docker:
        samples["engine in-process, docker cold"] = []
        samples["engine in-process, docker pooled"] = []
    for _ in range(args.rounds):
        samples["bare import + calls"].append(
            timed(lambda: bare(BARE_ACTIVATIONS, str(SOLUTION.parent), python=env_python))
        )
        if "local" in args.kinds:
            samples["dlgrade grade --sandbox local (CLI)"].append(timed(cli_local))
            samples["engine in-process, local cold"].append(stages.grade("local cold", "local"))
            if local_pool is not None:
                pools.install(local_pool, "local")
                wait_refilled(local_pool)
                samples["engine in-process, local pooled"].append(
                    stages.grade("local pooled", "local")
                )
                wait_refilled(local_pool)  # the refill's CPU is charged to no variant
                pools.install(None, "local")
        if with_docker and pool is not None:
            pools.install(None)
            samples["engine in-process, docker cold"].append(stages.grade("docker cold", "docker"))
            pools.install(pool)
            wait_refilled(pool)
            samples["engine in-process, docker pooled"].append(
                stages.grade("docker pooled", "docker")
            )
            wait_refilled(pool)  # the refill's CPU is charged to no variant
            pools.install(None)
    report("activations: 45 checks", samples, "bare import + calls")
    print("\nwhere an in-process grading's time goes (medians)")
    for name, parts in stages.samples.items():
        text = ", ".join(f"{k} {statistics.median(v):.3f} s" for k, v in parts.items())
        print(f"  {name:<14} {text}")


def worker_time_to_report(args: argparse.Namespace, pool: pools.ContainerPool) -> None:
    from worker.config import Settings, default_broker_url
    from worker.grading import execute_run
    from worker.migrate import upgrade
    from worker.submit import submit

    work = Path(tempfile.mkdtemp(prefix="dlgrade-bench-grading-"))
    try:
        settings = Settings(
            database_url=f"sqlite:///{work / 'dlgrade.sqlite'}",
            broker_url=default_broker_url(work),
            data_dir=work,
            sandbox="docker",
            max_in_flight=10_000,
            rate_limit="100000/60",
        )
        upgrade(settings.database_url)
        spec = load_assignment(ACTIVATIONS)
        samples: dict[str, list[float]] = {"without a pool": [], "with a pool": []}
        for n in range(args.worker_rounds):
            for variant in samples:
                pooled = variant == "with a pool"
                pools.install(pool if pooled else None)
                if pooled:
                    wait_refilled(pool)
                run = submit(spec, SOLUTION, f"student{n}-{pooled}", settings, publish=None)
                t0 = time.perf_counter()
                outcome = execute_run(
                    run.run_id, settings.with_(docker_pool=1 if pooled else 0), None
                )
                samples[variant].append(time.perf_counter() - t0)
                if outcome != "graded":
                    raise SystemExit(f"bench: run {run.run_id} ended {outcome!r}")
                if pooled:
                    wait_refilled(pool)
                pools.install(None)
        b = statistics.median(samples["without a pool"])
        print(f"\na worker's time to report, Docker (median of {args.worker_rounds} runs each)")
        for key, values in samples.items():
            m = statistics.median(values)
            print(f"  {key:<36} {m:8.3f} s   ratio to without {m / b:6.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--worker-rounds", type=int, default=4)
    parser.add_argument("--sandboxes", default="local,docker")
    args = parser.parse_args()
    args.kinds = args.sandboxes.split(",")
    with_docker = "docker" in args.kinds and docker_ready("numpy")
    if "docker" in args.kinds and not with_docker:
        print("docker: no engine or no image here; only local is measured")
    assignment = load_assignment(ACTIVATIONS)
    spec = SandboxSpec(root=ROOT, environment=assignment.environment, limits=assignment.limits)
    pool = local_pool = None
    if with_docker:
        pool = pools.ContainerPool(size=1)
        pool.fill(spec)
    if "local" in args.kinds:
        local_pool = LocalPool(size=1)
        local_pool.fill(spec)
    # The command line as installed: its modules' bytecode compiled (pip does so).
    for package in ("grader", "reference"):
        compileall.compile_dir(ROOT / package, quiet=1)
    # Local sandboxes weigh half a process under contention (grader/sandbox/cgroups.py,
    # _weigh_sandboxes): on a loaded host the local figures measure that weight first.
    print("load average at start: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    try:
        # Warm once (imports, the host view's cache, the image lookup): the same for all.
        grade(assignment, SOLUTION, sandbox="local" if "local" in args.kinds else "docker")
        gradings(args, with_docker, pool, local_pool)
        if pool is not None and args.worker_rounds > 0:
            worker_time_to_report(args, pool)
    finally:
        pools.install(None)
        pools.install(None, "local")
        for each in (pool, local_pool):
            if each is not None:
                each.close()
    print("load average at end: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
