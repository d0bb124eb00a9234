"""Naive loops versus im2col: time reference.layers' two convolutions side by side.

    python bench/bench_conv.py [--naive-repeats 3] [--vectorised-per-round 5]

One forward + backward pass of a 64x3x32x32 batch through 16 3x3 filters, pad 1,
stride 1, in float64. The two implementations alternate within each round (one
naive pass, then a few vectorised passes) so that both see the same machine
load; the script prints the median seconds of each, the speed-up ratio (the
target is at least 20x) and the largest absolute difference between the two
implementations' outputs and gradients. The naive pass takes several seconds,
so it is timed on fewer repeats; the default run takes well under two minutes.
BLAS runs on one thread unless OPENBLAS_NUM_THREADS / OMP_NUM_THREADS are set.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

# Single-threaded BLAS unless the caller chose otherwise: the naive loops use one
# core, so this compares algorithms rather than core counts, and a threaded BLAS
# on a shared machine stalls for seconds whenever another process holds a core.
# Must be set before NumPy loads OpenBLAS.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reference.layers import (  # noqa: E402
    conv_backward,
    conv_backward_naive,
    conv_forward,
    conv_forward_naive,
)

SEED = 0
X_SHAPE = (64, 3, 32, 32)
W_SHAPE = (16, 3, 3, 3)
STRIDE, PAD = 1, 1
TARGET_SPEEDUP = 20.0

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def forward_backward(
    forward: Callable,
    backward: Callable,
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray,
    dout: np.ndarray,
) -> Arrays:
    out, cache = forward(x, w, b, stride=STRIDE, pad=PAD)
    dx, dw, db = backward(dout, cache)
    return out, dx, dw, db


def timed(fn: Callable[[], Arrays]) -> tuple[float, Arrays]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--naive-repeats", type=int, default=3)
    parser.add_argument("--vectorised-per-round", type=int, default=5)
    args = parser.parse_args()

    rng = np.random.default_rng(SEED)
    x = rng.standard_normal(X_SHAPE)
    w = rng.standard_normal(W_SHAPE)
    b = rng.standard_normal(W_SHAPE[0])
    dout = rng.standard_normal((X_SHAPE[0], W_SHAPE[0], X_SHAPE[2], X_SHAPE[3]))

    def naive() -> Arrays:
        return forward_backward(conv_forward_naive, conv_backward_naive, x, w, b, dout)

    def vectorised() -> Arrays:
        return forward_backward(conv_forward, conv_backward, x, w, b, dout)

    print(
        f"conv forward+backward, x {X_SHAPE}, w {W_SHAPE}, stride {STRIDE}, pad {PAD}, float64, "
        f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}"
    )
    vectorised()  # warm-up: first-touch allocations and BLAS start-up
    naive_times: list[float] = []
    vec_times: list[float] = []
    naive_result = vec_result = None
    for round_ in range(args.naive_repeats):
        seconds, naive_result = timed(naive)
        naive_times.append(seconds)
        for _ in range(args.vectorised_per_round):
            seconds, vec_result = timed(vectorised)
            vec_times.append(seconds)
        print(
            f"  round {round_ + 1}: naive {naive_times[-1]:.3f} s, "
            f"vectorised {statistics.median(vec_times[-args.vectorised_per_round :]):.4f} s"
        )
    assert naive_result is not None and vec_result is not None

    naive_median = statistics.median(naive_times)
    vec_median = statistics.median(vec_times)
    speedup = naive_median / vec_median
    print(f"naive      median {naive_median:.3f} s  ({len(naive_times)} runs)")
    print(f"vectorised median {vec_median:.4f} s  ({len(vec_times)} runs)")
    verdict = "meets" if speedup >= TARGET_SPEEDUP else "MISSES"
    print(f"speed-up   {speedup:.1f}x  ({verdict} the {TARGET_SPEEDUP:.0f}x target)")
    for name, a, v in zip(("out", "dx", "dw", "db"), naive_result, vec_result, strict=True):
        print(f"max |naive - vectorised| {name:>3}: {np.max(np.abs(a - v)):.3e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
