"""Checks for the CNN layers homework.

Every forward is compared with reference.layers; every backward with the
reference AND with centred differences of the student's own forward (the
failing input and index named). The naive and vectorised convolutions must
agree with each other, and the vectorised one must be at least 10x faster
than the naive one on a stated batch, timed here around the calls into the
sandbox (the best of 3 vectorised calls against one naive call); the message
of a passing speed check carries no timings, so two gradings agree.

Hidden checks draw their inputs from the rng they receive (a secret per
submission); max pooling's ties are among them. Inputs are exactly
representable in float32, so a float32 submission is judged at its own
resolution.
"""

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from grader.checks import CheckFailed, Verdict, all_of, check, compare, own_forward_grad_check
from reference import layers as ref

RTOL, ATOL = 1e-7, 1e-9
SPEED_RATIO = 10.0
SPEED_X, SPEED_W = (8, 3, 32, 32), (8, 3, 3, 3)  # stride 1, pad 1


def f32(x: Any) -> Any:
    arr = np.asarray(x, dtype=np.float32).astype(np.float64)
    return float(arr) if arr.ndim == 0 else arr


def distinct(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values at least 0.08 apart (no ties, no kink within a finite-difference step)."""
    n = int(np.prod(shape))
    grid = rng.permutation(n).reshape(shape) * 0.1 - 0.05 * n
    return f32(grid + rng.uniform(-0.01, 0.01, size=shape))


def first(value: Any, what: str, count: int = 2) -> tuple[Any, Any]:
    """(out, cache) from a forward's tuple of ``count`` items."""
    if not isinstance(value, tuple | list) or len(value) != count:
        raise CheckFailed(f"{what} must return a tuple of {count}; got {type(value).__name__}")
    return value[0], value[1]


def grads_of(value: Any, count: int, what: str) -> tuple[Any, ...]:
    if count == 1 and not isinstance(value, tuple | list):
        return (value,)
    if not isinstance(value, tuple | list) or len(value) != count:
        raise CheckFailed(f"{what} must return {count} gradients; got {type(value).__name__}")
    return tuple(value)


# -- layers: differentiable inputs, other arguments, the reference pair -------------------


Inputs = tuple[dict[str, np.ndarray], tuple[Any, ...]]
# Every check of a layer runs each of its settings, at every seed: a stride used as the
# window's size (or the other way round) is right where they agree and wrong elsewhere.
CONV_SETTINGS = ((1, 1), (2, 1), (1, 0))  # (stride, pad)
POOL_SETTINGS = ((2, 2), (3, 1))  # (pool, stride): windows that tile, and windows that overlap


def conv_inputs(rng: np.random.Generator) -> list[Inputs]:
    return [
        (
            {
                "x": f32(rng.normal(size=(1, 2, 3, 3))),
                "w": f32(rng.normal(0.0, 0.5, size=(2, 2, 3, 3))),
                "b": f32(rng.normal(size=2)),
            },
            setting,
        )
        for setting in CONV_SETTINGS
    ]


def pool_inputs(rng: np.random.Generator) -> list[Inputs]:
    return [({"x": distinct(rng, (1, 2, 4, 4))}, setting) for setting in POOL_SETTINGS]


def bn_inputs(rng: np.random.Generator) -> list[Inputs]:
    return [bn_input(rng)]


def bn_input(rng: np.random.Generator) -> Inputs:
    bn_param = {"mode": "train", "eps": 1e-5, "momentum": f32(rng.uniform(0.5, 0.95))}
    return {
        "x": f32(rng.normal(1.0, 2.0, size=(5, 3))),
        "gamma": f32(rng.uniform(0.5, 2.0, size=3)),
        "beta": f32(rng.normal(size=3)),
    }, (bn_param,)


def dropout_inputs(rng: np.random.Generator) -> list[Inputs]:
    p = f32(rng.uniform(0.2, 0.6))
    return [({"x": f32(rng.normal(size=(4, 5)))}, (p, "train", int(rng.integers(2**31))))]


def ref_bn(x, gamma, beta, bn_param):
    return ref.batchnorm_forward(x, gamma, beta, dict(bn_param))


def ref_dropout(x, p, mode, seed):
    return ref.dropout_forward(x, p, mode, np.random.default_rng(seed))


# name: (inputs at each setting, reference forward, reference backward, items a forward returns)
LAYERS: dict[str, tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any], int]] = {
    "conv_naive": (conv_inputs, ref.conv_forward_naive, ref.conv_backward_naive, 2),
    "conv": (conv_inputs, ref.conv_forward, ref.conv_backward, 2),
    "max_pool": (pool_inputs, ref.max_pool_forward, ref.max_pool_backward, 2),
    "avg_pool": (pool_inputs, ref.avg_pool_forward, ref.avg_pool_backward, 2),
    "batchnorm": (bn_inputs, ref_bn, ref.batchnorm_backward, 3),
    "dropout": (dropout_inputs, ref_dropout, ref.dropout_backward, 2),
}


def setting(layer: str, extra: tuple[Any, ...]) -> str:
    """The setting a message names: (stride, pad) of a convolution, (pool, stride) of a pool."""
    if layer.startswith("conv"):
        return f" (stride={extra[0]}, pad={extra[1]})"
    if layer.endswith("pool"):
        return f" (pool={extra[0]}, stride={extra[1]})"
    return ""


def names(layer: str) -> tuple[str, str]:
    if layer == "conv_naive":
        return "conv_forward_naive", "conv_backward_naive"
    return layer + "_forward", layer + "_backward"


def _backward_check(layer: str, points: float) -> Any:
    make, ref_fwd, ref_bwd, items = LAYERS[layer]
    fwd, bwd = names(layer)

    def run(student: Any, rng: np.random.Generator) -> Verdict:
        verdicts = []
        for inputs, extra in make(rng):
            verdicts.extend(one(student, rng, inputs, extra))
        return all_of(*verdicts)

    def one(student: Any, rng: np.random.Generator, inputs: dict, extra: tuple) -> list[Verdict]:
        keys = list(inputs)
        expected_out, ref_cache = ref_fwd(*inputs.values(), *extra)
        dout = f32(rng.normal(size=expected_out.shape))
        _, cache = first(student.call(fwd, *inputs.values(), *extra), fwd, items)
        got = grads_of(student.call(bwd, dout, cache), len(keys), bwd)
        expected = grads_of(ref_bwd(dout, ref_cache), len(keys), bwd)
        verdicts = []
        for i, key in enumerate(keys):
            what = f"{bwd}{setting(layer, extra)}: d{key}"
            verdicts.append(compare(got[i], expected[i], rtol=RTOL, atol=ATOL, name=what))

            def value_at(v: np.ndarray, i: int = i) -> Any:
                args = [v if j == i else a for j, a in enumerate(inputs.values())]
                return first(student.call(fwd, *args, *extra), fwd, items)[0]

            verdicts.append(
                own_forward_grad_check(
                    got[i],
                    value_at,
                    inputs[key],
                    dout,
                    name=f"{what} vs slopes of your {fwd}",
                    forward=fwd,
                )
            )
        return verdicts

    run.__doc__ = (
        f"{bwd}: every gradient against the reference and finite differences of your {fwd}."
    )
    return check(points=points, name=bwd)(run)


check_conv_backward_naive = _backward_check("conv_naive", 2)
check_conv_backward = _backward_check("conv", 2)
check_max_pool_backward = _backward_check("max_pool", 1)
check_avg_pool_backward = _backward_check("avg_pool", 1)
check_batchnorm_backward = _backward_check("batchnorm", 2)
check_dropout_backward = _backward_check("dropout", 1)


# -- forwards --------------------------------------------------------------------------


@check(points=1)
def output_size(student, rng):
    """conv_output_size: the notes' example (28x31 input, pad 2, stride 3, 5x5 filter: 10x11)
    and random sizes that fit."""
    cases = [(28, 31, 5, 5, 3, 2)]
    for _ in range(5):
        fh, fw = int(rng.integers(1, 6)), int(rng.integers(1, 6))
        stride, pad = int(rng.integers(1, 4)), int(rng.integers(0, 3))
        oh, ow = int(rng.integers(1, 12)), int(rng.integers(1, 12))
        h, w = (oh - 1) * stride + fh - 2 * pad, (ow - 1) * stride + fw - 2 * pad
        if h >= 1 and w >= 1:
            cases.append((h, w, fh, fw, stride, pad))
    verdicts = []
    for case in cases:
        got = student.conv_output_size(*case)
        verdicts.append(
            compare(
                got,
                ref.conv_output_size(*case),
                rtol=0,
                atol=0,
                name="conv_output_size(h={}, w={}, fh={}, fw={}, stride={}, pad={})".format(*case),
            )
        )
    return all_of(*verdicts)


def _forward_check(layer: str, name: str) -> Any:
    make, ref_fwd, _, items = LAYERS[layer]
    fwd, _ = names(layer)

    def run(student: Any, rng: np.random.Generator) -> Verdict:
        verdicts = []
        for inputs, extra in make(rng):
            out, _ = first(student.call(fwd, *inputs.values(), *extra), fwd, items)
            expected, _ = ref_fwd(*inputs.values(), *extra)
            what = f"{fwd}{setting(layer, extra)}: out"
            verdicts.append(compare(out, expected, rtol=RTOL, atol=ATOL, name=what))
        return all_of(*verdicts)

    run.__doc__ = f"{fwd} on random inputs, against the reference."
    return check(points=1, name=name)(run)


check_conv_forward_naive = _forward_check("conv_naive", "conv_forward_naive")
check_conv_forward = _forward_check("conv", "conv_forward")
check_avg_pool_forward = _forward_check("avg_pool", "avg_pool_forward")
check_dropout_train = _forward_check("dropout", "dropout_train")

NOTES_INPUT = np.array([[1, 2, 3, 0], [0, 1, 2, 3], [3, 0, 1, 2], [2, 3, 0, 1]], dtype=float)
NOTES_KERNEL = np.array([[2, 0, 1], [0, 1, 2], [1, 0, 2]], dtype=float)
NOTES_MAP = [[15, 16], [6, 15]]
NOTES_PADDED_MAP = [[7, 12, 10, 2], [4, 15, 16, 10], [10, 6, 15, 6], [8, 10, 4, 3]]
NOTES_POOL_INPUT = np.array([[1, 2, 1, 0], [0, 1, 2, 3], [3, 0, 1, 2], [2, 4, 0, 1]], dtype=float)


@check(points=1)
def conv_notes_example(student, rng):
    """The notes' 4x4 input and 3x3 kernel: [[15, 16], [6, 15]], and with pad 1 the notes' 4x4
    map, from both convolutions."""
    verdicts = []
    for fwd in ("conv_forward_naive", "conv_forward"):
        for pad, expected in ((0, NOTES_MAP), (1, NOTES_PADDED_MAP)):
            out, _ = first(
                student.call(
                    fwd, NOTES_INPUT[None, None], NOTES_KERNEL[None, None], np.zeros(1), 1, pad
                ),
                fwd,
            )
            arr = np.asarray(out)
            got = arr[0, 0] if arr.ndim == 4 else arr
            verdicts.append(
                compare(got, expected, rtol=0, atol=1e-9, name=f"{fwd}(notes, pad={pad})[0, 0]")
            )
    return all_of(*verdicts)


@check(points=1, hidden=True)
def conv_naive_matches_vectorised(student, rng):
    """Your naive and vectorised convolutions agree, forward and backward, at stride 2, pad 2."""
    x = f32(rng.normal(size=(2, 3, 7, 7)))
    w = f32(rng.normal(size=(4, 3, 3, 3)))
    b = f32(rng.normal(size=4))
    out_n, cache_n = first(student.conv_forward_naive(x, w, b, 2, 2), "conv_forward_naive")
    out_v, cache_v = first(student.conv_forward(x, w, b, 2, 2), "conv_forward")
    verdicts = [
        compare(out_v, out_n, rtol=1e-6, atol=1e-9, name="conv_forward vs your conv_forward_naive")
    ]
    if not verdicts[0].passed:
        return verdicts[0]
    dout = f32(rng.normal(size=np.shape(out_n)))
    naive = grads_of(student.conv_backward_naive(dout, cache_n), 3, "conv_backward_naive")
    vec = grads_of(student.conv_backward(dout, cache_v), 3, "conv_backward")
    for key, g_v, g_n in zip(("dx", "dw", "db"), vec, naive, strict=True):
        verdicts.append(
            compare(
                g_v,
                g_n,
                rtol=1e-6,
                atol=1e-9,
                name=f"conv_backward {key} vs your conv_backward_naive",
            )
        )
    return all_of(*verdicts)


@check(points=1, timeout=60)
def conv_speed(student, rng):
    """conv_forward is at least 10x as fast as conv_forward_naive on x (8, 3, 32, 32) with
    8 filters of 3x3, stride 1, pad 1 (timed around the calls: best of 3 against one)."""
    x = f32(rng.normal(size=SPEED_X))
    w = f32(rng.normal(0.0, 0.3, size=SPEED_W))
    b = f32(rng.normal(size=SPEED_W[0]))
    started = time.perf_counter()
    student.conv_forward_naive(x, w, b, 1, 1)
    naive = time.perf_counter() - started
    best, out = float("inf"), None
    for _ in range(3):
        started = time.perf_counter()
        out = student.conv_forward(x, w, b, 1, 1)
        best = min(best, time.perf_counter() - started)
    got, _ = first(out, "conv_forward")
    right = compare(
        got, ref.conv_forward(x, w, b, 1, 1)[0], rtol=RTOL, atol=ATOL, name="conv_forward"
    )
    if not right.passed:
        return Verdict(False, right.message + " (speed counts for a right answer only)")
    shape = f"x {SPEED_X}, w {SPEED_W}, stride 1, pad 1"
    if naive >= SPEED_RATIO * best:
        return Verdict(
            True,
            f"conv_forward is at least {SPEED_RATIO:g}x as fast as conv_forward_naive on {shape}",
        )
    return Verdict(
        False,
        f"conv_forward is only {naive / best:.1f}x as fast as conv_forward_naive on {shape} "
        f"(naive {naive:.3f} s, vectorised {best:.4f} s); at least {SPEED_RATIO:g}x is needed",
    )


@check(points=1)
def max_pool_forward(student, rng):
    """max_pool_forward: the notes' example ([[2, 3], [4, 2]]) and random inputs."""
    out, _ = first(student.max_pool_forward(NOTES_POOL_INPUT[None, None], 2, 2), "max_pool_forward")
    verdicts = [
        compare(
            out,
            np.array([[[[2.0, 3.0], [4.0, 2.0]]]]),
            rtol=0,
            atol=1e-9,
            name="max_pool_forward(notes)",
        )
    ]
    for pool, stride in ((2, 2), (3, 1)):
        x = f32(rng.normal(size=(2, 3, 4, 4)))
        got, _ = first(student.max_pool_forward(x, pool, stride), "max_pool_forward")
        verdicts.append(
            compare(
                got,
                ref.max_pool_forward(x, pool, stride)[0],
                rtol=RTOL,
                atol=ATOL,
                name=f"max_pool_forward(pool={pool}, stride={stride})",
            )
        )
    return all_of(*verdicts)


@check(points=1, hidden=True)
def max_pool_ties(student, rng):
    """max_pool_backward when entries of a window tie for the maximum: the first in row-major
    order gets the gradient, as torch's."""
    x = rng.integers(0, 3, size=(2, 2, 4, 4)).astype(np.float64)
    x[0, 0, :2, :2] = rng.permutation([3.0, 3.0, 1.0, 0.0]).reshape(2, 2)  # one tie for sure
    _, cache = first(student.max_pool_forward(x, 2, 2), "max_pool_forward")
    dout = f32(rng.uniform(0.5, 2.0, size=(2, 2, 2, 2)))
    return compare(
        student.max_pool_backward(dout, cache),
        ref.max_pool_backward(dout, ref.max_pool_forward(x, 2, 2)[1]),
        rtol=RTOL,
        atol=ATOL,
        name="max_pool_backward with ties",
    )


@check(points=1)
def batchnorm_train(student, rng):
    """batchnorm_forward in train mode: the output and the running statistics it stores, from
    given running statistics and from the starter's defaults (bn_param holding the mode only)."""
    inputs, (bn_param,) = bn_input(rng)
    bn_param = {
        **bn_param,
        "running_mean": f32(rng.normal(size=3)),
        "running_var": f32(rng.uniform(0.5, 2, size=3)),
    }
    value = student.batchnorm_forward(*inputs.values(), dict(bn_param))
    if not isinstance(value, tuple | list) or len(value) != 3 or not isinstance(value[2], dict):
        raise CheckFailed("batchnorm_forward must return (out, cache, bn_param)")
    out, _, got = value
    expected_param = dict(bn_param)
    expected, _ = ref.batchnorm_forward(*inputs.values(), expected_param)
    verdicts = [compare(out, expected, rtol=RTOL, atol=ATOL, name="batchnorm_forward (train): out")]
    for key in ("running_mean", "running_var"):
        if key not in got:
            raise CheckFailed(f"batchnorm_forward: the returned bn_param has no '{key}'")
        verdicts.append(
            compare(got[key], expected_param[key], rtol=RTOL, atol=ATOL, name=f"bn_param['{key}']")
        )
    # The starter's defaults: bn_param holding only the mode (eps 1e-5, momentum 0.9 on the
    # OLD running value, running statistics starting at zeros and ones).
    value = student.batchnorm_forward(*inputs.values(), {"mode": "train"})
    if not isinstance(value, tuple | list) or len(value) != 3 or not isinstance(value[2], dict):
        raise CheckFailed("batchnorm_forward must return (out, cache, bn_param)")
    out, _, got = value
    expected_param = {"mode": "train"}
    expected, _ = ref.batchnorm_forward(*inputs.values(), expected_param)
    verdicts.append(
        compare(out, expected, rtol=RTOL, atol=ATOL, name="batchnorm_forward (train, defaults)")
    )
    for key in ("running_mean", "running_var"):
        if key not in got:
            raise CheckFailed(f"batchnorm_forward: the returned bn_param has no '{key}'")
        verdicts.append(
            compare(
                got[key],
                expected_param[key],
                rtol=RTOL,
                atol=ATOL,
                name=f"bn_param['{key}'] from bn_param = {{'mode': 'train'}} (the defaults)",
            )
        )
    verdict = all_of(*verdicts)
    if verdict.passed:
        return verdict
    # The running statistics started from values the grader gave: show them.
    given = ", ".join(
        f"{k}={np.array2string(np.asarray(v), precision=6, separator=', ')}"
        if isinstance(v, np.ndarray)
        else f"{k}={v!r}"
        for k, v in bn_param.items()
    )
    return Verdict(False, verdict.message + f"\n(the first call's bn_param, as given: {given})")


@check(points=1, hidden=True)
def batchnorm_test(student, rng):
    """batchnorm_forward in test mode normalises with the running statistics."""
    inputs, (bn_param,) = bn_input(rng)
    bn_param = {
        **bn_param,
        "mode": "test",
        "running_mean": f32(rng.normal(size=3)),
        "running_var": f32(rng.uniform(0.5, 2, size=3)),
    }
    out, _ = first(
        student.batchnorm_forward(*inputs.values(), dict(bn_param)), "batchnorm_forward", 3
    )
    expected, _ = ref.batchnorm_forward(*inputs.values(), dict(bn_param))
    return compare(out, expected, rtol=RTOL, atol=ATOL, name="batchnorm_forward (test): out")


@check(points=1, hidden=True)
def dropout_test(student, rng):
    """dropout_forward in test mode returns x unchanged (inverted dropout scaled at train time)."""
    x = f32(rng.normal(size=(4, 6)))
    p = f32(rng.uniform(0.2, 0.6))
    out, _ = first(
        student.dropout_forward(x, p, "test", int(rng.integers(2**31))), "dropout_forward"
    )
    return compare(out, x, rtol=RTOL, atol=ATOL, name=f"dropout_forward(x, p={p:.4g}, 'test')")
