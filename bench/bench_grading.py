"""Grading latency against the bare cost of the student's work, measured side by side.

    python bench/bench_grading.py [--rounds 5] [--sandboxes local,docker]

activations: one full grading of the instructor's solution per sandbox, against
the bare time of a fresh interpreter importing the same file and calling its
functions on inputs of the checks' shapes (the work grading cannot avoid).
The runs alternate within each round so every variant sees the same machine
load; the script prints medians and the ratio grading / bare.

Homework 1 (mnist-numpy-mlp), whose data is written per grading, has its own
benchmark: bench/bench_mnist_numpy.py.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.assignment import load_assignment  # noqa: E402
from grader.engine import grade  # noqa: E402
from grader.sandbox import docker_ready  # noqa: E402
from grader.sandbox.local import ensure_env  # noqa: E402

ACTIVATIONS = ROOT / "assignments" / "activations"

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


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def bare(script: str, *args: str, python: str) -> None:
    # The same interpreter and the same scrubbed environment the sandbox gets (one BLAS
    # thread, none of the host's OPENBLAS_* tuning), so that only grading differs.
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8"}
    env.update({k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")})
    subprocess.run([python, "-c", script, *args], check=True, env=env)


def report(name: str, samples: dict[str, list[float]], base: str) -> None:
    b = statistics.median(samples[base])
    print(f"\n{name} (median of {len(samples[base])} rounds)")
    for key, values in samples.items():
        m = statistics.median(values)
        print(f"  {key:<28} {m:8.3f} s   ratio to bare {m / b:6.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sandboxes", default="local,docker")
    args = parser.parse_args()

    kinds = [k for k in args.sandboxes.split(",") if k != "docker" or docker_ready("numpy")]
    env_python = str(ensure_env("numpy") / "bin" / "python3")
    assignment = load_assignment(ACTIVATIONS)
    solution = ACTIVATIONS / "solution" / "activations.py"
    samples: dict[str, list[float]] = {"bare import + calls": []}
    samples.update({f"grading ({k})": [] for k in kinds})
    for _ in range(args.rounds):
        samples["bare import + calls"].append(
            timed(lambda: bare(BARE_ACTIVATIONS, str(solution.parent), python=env_python))
        )
        for k in kinds:
            samples[f"grading ({k})"].append(
                timed(lambda k=k: grade(assignment, solution, sandbox=k))
            )
    report("activations: 45 checks", samples, "bare import + calls")


if __name__ == "__main__":
    main()
