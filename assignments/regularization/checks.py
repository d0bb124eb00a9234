"""Checks for the regularisation homework.

Penalties are judged on parameter dicts with weights (W...) and biases (b...):
their value and gradients against reference.regularization computed on the
weights alone, and a bias must get a zero penalty gradient. Early stopping is
driven call by call from here with metric sequences built so that each rule
matters (an improvement smaller than min_delta, exactly `patience` bad epochs,
calls after the stop), in both modes, and compared with the reference's
EarlyStopping after every call. Dropout: the exact mask of the grader's
generator at training time, the identity at test time, and (hidden) the mean
of 4,000 draws equal to x within 6 standard errors per element (false-fail
probability below 1e-8 per grading).

Hidden checks draw their inputs from the rng they receive (a secret per
submission). Inputs are exactly representable in float32.
"""

import itertools
import math
from typing import Any

import numpy as np

from grader.checks import CheckFailed, Verdict, all_of, check, compare, unchanged
from reference import layers as ref_layers
from reference import regularization as ref

RTOL, ATOL = 1e-7, 1e-9
Z = 6.0


def f32(x: Any) -> Any:
    arr = np.asarray(x, dtype=np.float32).astype(np.float64)
    return float(arr) if arr.ndim == 0 else arr


def params_of(rng: np.random.Generator, sizes: list[int]) -> dict[str, np.ndarray]:
    params = {}
    for i, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes), start=1):
        params[f"W{i}"] = f32(rng.normal(size=(fan_in, fan_out)))
        params[f"b{i}"] = f32(rng.normal(size=fan_out))
    return params


def with_zero_weights(rng: np.random.Generator, params: dict[str, np.ndarray]) -> dict:
    """params with one weight of each W exactly 0 (the starter's sign(0) = 0), at random."""
    out = {k: v.copy() for k, v in params.items()}
    for key, value in out.items():
        if key.startswith("W"):
            value.flat[int(rng.integers(value.size))] = 0.0
    return out


def expected_penalty(kind: str, params: dict[str, np.ndarray], lam: float):
    weights = {k: v for k, v in params.items() if k.startswith("W")}
    value, grads = getattr(ref, kind)(weights, lam)
    return value, {k: grads.get(k, np.zeros_like(v)) for k, v in params.items()}


def penalty_verdict(student: Any, kind: str, params: dict[str, np.ndarray], lam: float) -> Verdict:
    got = student.call(kind, params, lam)
    if not isinstance(got, tuple | list) or len(got) != 2 or not isinstance(got[1], dict):
        raise CheckFailed(f"{kind} must return (value, grads) with grads a dict")
    value, grads = got
    missing = set(params) - set(grads)
    if missing:
        raise CheckFailed(f"{kind}: grads has no entry for {sorted(missing)} (biases get zeros)")
    exp_value, exp_grads = expected_penalty(kind, params, lam)
    what = f"{kind}({{{', '.join(params)}}}, lam={lam:.4g})"
    verdicts = [compare(value, exp_value, rtol=RTOL, atol=ATOL, name=f"{what}: value")]
    for key in params:
        note = " (a bias: never regularised)" if not key.startswith("W") else ""
        verdicts.append(
            compare(
                grads[key],
                exp_grads[key],
                rtol=RTOL,
                atol=ATOL,
                name=f"{what}: grads['{key}']{note}",
            )
        )
    return all_of(*verdicts)


@check(points=2)
def l2_penalty(student, rng):
    """l2_penalty on a two-layer network's parameters: value and gradients, biases untouched."""
    return penalty_verdict(
        student, "l2_penalty", params_of(rng, [4, 3, 2]), f32(rng.uniform(0.01, 1))
    )


@check(points=2)
def l1_penalty(student, rng):
    """l1_penalty on a two-layer network's parameters, a weight of each layer exactly 0:
    value and gradients (sign(0) = 0), biases untouched."""
    params = with_zero_weights(rng, params_of(rng, [4, 3, 2]))
    return penalty_verdict(student, "l1_penalty", params, f32(rng.uniform(0.01, 1)))


@check(points=1, hidden=True)
def penalties_hidden(student, rng):
    """Both penalties on a network of random depth (2 to 4 layers) and widths, a weight of
    each layer exactly 0."""
    sizes = [int(s) for s in rng.integers(1, 6, size=int(rng.integers(3, 6)))]
    params = with_zero_weights(rng, params_of(rng, sizes))
    lam = f32(rng.uniform(0.01, 1))
    return all_of(
        *(penalty_verdict(student, kind, params, lam) for kind in ("l2_penalty", "l1_penalty"))
    )


@check(points=1)
def weight_decay_step(student, rng):
    """One SGD step with L2 weight decay: weights shrink, biases follow their gradient only,
    in a NEW dict (params and grads left as they were)."""
    params = params_of(rng, [4, 3, 2])
    grads = params_of(rng, [4, 3, 2])
    lam, lr = f32(rng.uniform(0.01, 0.5)), f32(rng.uniform(0.01, 0.5))
    watched = student.call_watched("weight_decay_step", params, grads, lam, lr)
    got = watched.value
    if not isinstance(got, dict) or set(got) != set(params):
        raise CheckFailed("weight_decay_step must return a dict with the keys of params")
    _, decay = expected_penalty("l2_penalty", params, lam)
    return all_of(
        unchanged(
            watched, {0: "params", 1: "grads"}, call="weight_decay_step(params, grads, lam, lr)"
        ),
        *(
            compare(
                got[k],
                params[k] - lr * (grads[k] + decay[k]),
                rtol=RTOL,
                atol=ATOL,
                name=f"weight_decay_step(lam={lam:.4g}, lr={lr:.4g}): '{k}'",
            )
            for k in params
        ),
    )


# -- early stopping ---------------------------------------------------------------------


def metric_sequence(
    rng: np.random.Generator, patience: int, min_delta: float, mode: str, nan: bool = False
) -> list[float]:
    """A start, a big gain, a gain smaller than min_delta (no improvement), a worse epoch, a
    big gain, then patience + 2 epochs without improvement (the stop, and calls after it)."""
    sign = -1.0 if mode == "min" else 1.0  # the direction of an improvement
    best = f32(rng.uniform(1.0, 2.0))
    seq = [best]

    def move(kind: str) -> float:
        nonlocal best
        if kind == "big":
            best = f32(best + sign * rng.uniform(2.0, 4.0) * min_delta)
            return best
        if kind == "small":
            return f32(best + sign * rng.uniform(0.1, 0.5) * min_delta)
        return f32(best - sign * rng.uniform(0.0, 3.0) * min_delta)  # worse (or equal-ish)

    for kind in ["big", "small", "worse", "big"] + ["worse"] * (patience + 2):
        seq.append(move(kind))
    if nan:
        seq[-2] = math.nan
    return seq


def early_stopping_verdict(
    student: Any, patience: int, min_delta: float, mode: str, seq: list[float]
) -> Verdict:
    obj = student.new("EarlyStopping", patience, min_delta, mode)
    expected = ref.EarlyStopping(patience, min_delta, mode)
    columns: dict[str, tuple[list[float], list[float]]] = {
        k: ([], [])
        for k in ("step() returned", "best", "best_epoch", "num_bad_epochs", "should_stop")
    }
    for metric in seq:
        got_return = obj.step(metric)
        exp_return = expected.step(metric)
        for key, g, e in (
            ("step() returned", got_return, exp_return),
            ("best", obj.get("best"), expected.best),
            ("best_epoch", obj.get("best_epoch"), expected.best_epoch),
            ("num_bad_epochs", obj.get("num_bad_epochs"), expected.num_bad_epochs),
            ("should_stop", obj.get("should_stop"), expected.should_stop),
        ):
            arr = np.asarray(g) if isinstance(g, np.ndarray | bool | int | float) else None
            if arr is None or arr.size != 1 or arr.dtype.kind not in "biuf":
                raise CheckFailed(
                    f"EarlyStopping: {key} must be a number or a bool; got {type(g).__name__}"
                )
            columns[key][0].append(float(arr.reshape(())))
            columns[key][1].append(float(e))
    shown = ", ".join("nan" if math.isnan(m) else f"{m:.6g}" for m in seq)
    what = f"EarlyStopping({patience}, min_delta={min_delta:.4g}, mode='{mode}') fed [{shown}]"
    verdicts = [
        compare(
            np.array(g), np.array(e), rtol=RTOL, atol=ATOL, name=f"{what}: {key} after call index"
        )
        for key, (g, e) in columns.items()
    ]
    return all_of(*verdicts)


@check(points=3)
def early_stopping(student, rng):
    """EarlyStopping in both modes: min_delta, patience, best and best_epoch after every call."""
    verdicts = []
    for mode in ("min", "max"):
        patience, min_delta = int(rng.integers(2, 4)), f32(rng.uniform(0.01, 0.05))
        seq = metric_sequence(rng, patience, min_delta, mode)
        verdicts.append(early_stopping_verdict(student, patience, min_delta, mode, seq))
    return all_of(*verdicts)


@check(points=1, hidden=True)
def early_stopping_hidden(student, rng):
    """EarlyStopping with patience 1 to 4 and a NaN epoch (never an improvement)."""
    mode = str(rng.choice(["min", "max"]))
    patience, min_delta = int(rng.integers(1, 5)), f32(rng.uniform(0.001, 0.1))
    seq = metric_sequence(rng, patience, min_delta, mode, nan=True)
    return early_stopping_verdict(student, patience, min_delta, mode, seq)


# -- dropout ----------------------------------------------------------------------------


@check(points=1)
def dropout_train(student, rng):
    """dropout_forward in train mode: the grader's mask, kept units scaled by 1 / (1 - p)."""
    x, p, seed = f32(rng.normal(size=(4, 6))), f32(rng.uniform(0.2, 0.6)), int(rng.integers(2**31))
    expected, _ = ref_layers.dropout_forward(x, p, "train", np.random.default_rng(seed))
    return compare(
        student.dropout_forward(x, p, "train", seed),
        expected,
        rtol=RTOL,
        atol=ATOL,
        name=f"dropout_forward(x, p={p:.4g}, 'train', seed)",
    )


@check(points=1)
def dropout_test(student, rng):
    """dropout_forward at test time is the identity (inverted dropout scaled at train time)."""
    x, p, seed = f32(rng.normal(size=(4, 6))), f32(rng.uniform(0.2, 0.6)), int(rng.integers(2**31))
    return compare(
        student.dropout_forward(x, p, "test", seed),
        x,
        rtol=RTOL,
        atol=ATOL,
        name=f"dropout_forward(x, p={p:.4g}, 'test')",
    )


@check(points=1, hidden=True)
def dropout_expectation(student, rng):
    """The mean of 4,000 training-mode draws is x (E[out] = x), per element within 6 standard
    errors |x| sqrt(p / ((1 - p) K))."""
    k = 4000
    row, p = (
        f32(rng.uniform(0.5, 2.0, size=5) * rng.choice([-1, 1], size=5)),
        f32(rng.uniform(0.2, 0.6)),
    )
    out = np.asarray(
        student.dropout_forward(np.tile(row, (k, 1)), p, "train", int(rng.integers(2**31)))
    )
    if out.shape != (k, 5) or out.dtype.kind != "f":
        raise CheckFailed(f"dropout_forward returned shape {out.shape}, expected ({k}, 5)")
    mean = out.astype(np.float64).mean(axis=0)
    stderr = np.abs(row) * math.sqrt(p / ((1 - p) * k))
    worst = int(np.argmax(np.abs(mean - row) / stderr))
    ok = bool(np.all(np.abs(mean - row) <= Z * stderr))
    return Verdict(
        ok,
        f"dropout_forward(p={p:.4g}): mean of {k} draws at index [{worst}] is {mean[worst]:.6g}, "
        f"x is {row[worst]:.6g} (allowed +- {Z * stderr[worst]:.3g}, {Z:g} standard errors)",
    )
