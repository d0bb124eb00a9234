"""Checks for the vanishing-gradients homework.

The student returns numbers; the grader checks them against reference.layers
and then checks the ratio that shows the effect.

- The notes' sigmoid chain: a6, delta6 and delta5 must round to the printed
  digits, and every step back must shrink |delta| at least four-fold
  (sigmoid' <= 1/4 with weights 1). A hidden check runs random chains.
- Per-layer gradient norms of deep sigmoid and ReLU networks whose weights the
  grader draws, against the reference.
- The experiment, with the student's own draws: first-layer norm / last-layer
  norm below 1e-2 for the sigmoid net (Xavier) and within [1e-2, 1e2] for the
  ReLU net (He), depth 10 and width 64. In 2,000 simulated seeds the sigmoid
  ratio never exceeded 8e-4 and the ReLU ratio stayed within [0.06, 4]: a
  factor of at least 6 from either bound.

Hidden checks draw their inputs from the rng they receive (a secret per
submission). Inputs are exactly representable in float32.
"""

from typing import Any

import numpy as np

from grader.checks import CheckFailed, Verdict, all_of, check, compare
from reference import layers as ref

RTOL, ATOL = 1e-7, 1e-9
NOTES_A1 = 0.6922  # reproduces the notes' table (see tests/reference)
SIGMOID_RATIO_MAX = 1e-2
RELU_RATIO_RANGE = (1e-2, 1e2)
DEPTH, WIDTH = 10, 64


def f32(x: Any) -> Any:
    arr = np.asarray(x, dtype=np.float32).astype(np.float64)
    return float(arr) if arr.ndim == 0 else arr


def reference_chain(a1: float, w: float, b: float, target: float, units: int):
    """Activations and the notes' deltas of the chain, from reference.layers."""
    weight, bias = np.full((1, 1), w), np.full(1, b)
    acts = [np.array([[a1]])]
    affine_caches, sigmoid_caches = [], []
    for _ in range(units):
        z, cache_a = ref.affine_forward(acts[-1], weight, bias)
        a, cache_s = ref.sigmoid_forward(z)
        acts.append(a)
        affine_caches.append(cache_a)
        sigmoid_caches.append(cache_s)
    deltas = [acts[-1] - target]  # the notes' output delta: a - target
    for k in range(units - 1, 0, -1):
        da, _, _ = ref.affine_backward(deltas[-1], affine_caches[k])
        deltas.append(ref.sigmoid_backward(da, sigmoid_caches[k - 1]))
    return np.array([a[0, 0] for a in acts]), np.array([d[0, 0] for d in deltas[::-1]])


def chain_result(value: Any, units: int) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(value, tuple | list) or len(value) != 2:
        raise CheckFailed("sigmoid_chain must return (activations, deltas)")
    acts, deltas = (np.asarray(v) for v in value)
    if acts.shape != (units + 1,) or deltas.shape != (units,):
        raise CheckFailed(
            f"sigmoid_chain with {units} units: activations of shape {acts.shape} and deltas "
            f"of shape {deltas.shape}, expected ({units + 1},) and ({units},)"
        )
    if acts.dtype.kind != "f" or deltas.dtype.kind != "f":
        raise CheckFailed("sigmoid_chain must return arrays of floats")
    return acts, deltas


def printed(got: Any, text: str, name: str) -> Verdict:
    """``got`` must round to the number the notes print (half a unit in the last digit)."""
    half_unit = 0.5 * 10.0 ** -len(text.split(".")[1])
    return compare(got, float(text), rtol=0.0, atol=half_unit, name=f"{name} (notes: {text})")


@check(points=2)
def notes_chain(student, rng):
    """The notes' chain (a1 = 0.6922, w = b = target = 1, five units): a6 = 0.865990147,
    delta6 = -0.134009853, delta5 = -0.015554943, and |delta| shrinks >= 4x per step back."""
    acts, deltas = chain_result(student.sigmoid_chain(NOTES_A1, 1.0, 1.0, 1.0, 5), 5)
    verdicts = [
        printed(acts[-1:].reshape(()), "0.865990147", "a6"),
        printed(deltas[-1:].reshape(()), "-0.134009853", "delta6"),
        printed(deltas[-2:-1].reshape(()), "-0.015554943", "delta5"),
    ]
    d = np.abs(deltas.astype(np.float64))
    for k in range(3, -1, -1):  # deltas[k] is delta_{k+2}
        verdicts.append(
            Verdict(
                bool(4.0 * d[k] <= d[k + 1]),
                f"|delta{k + 2}| = {d[k]:.6g} is at most |delta{k + 3}| / 4 = {d[k + 1] / 4:.6g}",
            )
        )
    return all_of(*verdicts)


@check(points=1, hidden=True)
def chain_random(student, rng):
    """Random chains (a1, w, b, target, 3 to 8 units): every activation and delta."""
    verdicts = []
    for _ in range(2):
        a1, w = f32(rng.uniform(-1, 1)), f32(rng.uniform(0.5, 2.0) * rng.choice([-1, 1]))
        b, target, units = f32(rng.uniform(-1, 1)), f32(rng.uniform(0, 1)), int(rng.integers(3, 9))
        acts, deltas = chain_result(student.sigmoid_chain(a1, w, b, target, units), units)
        exp_acts, exp_deltas = reference_chain(a1, w, b, target, units)
        what = (
            f"sigmoid_chain(a1={a1:.6g}, w={w:.6g}, b={b:.6g}, target={target:.6g}, units={units})"
        )
        verdicts.append(compare(acts, exp_acts, rtol=RTOL, atol=ATOL, name=f"{what}: activations"))
        verdicts.append(compare(deltas, exp_deltas, rtol=RTOL, atol=ATOL, name=f"{what}: deltas"))
    return all_of(*verdicts)


# -- per-layer gradient norms -----------------------------------------------------------


def reference_norms(x, y, weights, biases, activation: str) -> np.ndarray:
    forward = ref.sigmoid_forward if activation == "sigmoid" else ref.relu_forward
    backward = ref.sigmoid_backward if activation == "sigmoid" else ref.relu_backward
    h, caches = x, []
    for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
        h, cache_a = ref.affine_forward(h, w, b)
        cache_s = None
        if i < len(weights) - 1:
            h, cache_s = forward(h)
        caches.append((cache_a, cache_s))
    dout = (h - y) / x.shape[0]
    norms = []
    for cache_a, cache_s in reversed(caches):
        if cache_s is not None:
            dout = backward(dout, cache_s)
        dout, dw, _ = ref.affine_backward(dout, cache_a)
        norms.append(np.linalg.norm(dw))
    return np.array(norms[::-1])


def network(rng: np.random.Generator, depth: int, width: int, activation: str):
    """Inputs, targets and weights the grader draws: Xavier for sigmoid, He for ReLU."""
    x = f32(rng.normal(size=(8, width)))
    y = f32(rng.normal(size=(8, 2)))
    weights, biases = [], []
    for i in range(depth):
        fan_out = 2 if i == depth - 1 else width
        var = 2.0 / (width + fan_out) if activation == "sigmoid" else 2.0 / width
        weights.append(f32(np.sqrt(var) * rng.normal(size=(width, fan_out))))
        biases.append(f32(rng.normal(0.0, 0.1, size=fan_out)))
    return x, y, weights, biases


def norms_verdict(student, rng, depth: int, width: int, activation: str) -> Verdict:
    x, y, weights, biases = network(rng, depth, width, activation)
    got = student.gradient_norms(x, y, weights, biases, activation)
    expected = reference_norms(x, y, weights, biases, activation)
    name = (
        f"gradient_norms ({activation}, {depth} layers of width {width}): norm of layer index + 1"
    )
    return compare(got, expected, rtol=RTOL, atol=ATOL, name=name)


@check(points=2)
def gradient_norms_sigmoid(student, rng):
    """gradient_norms of a 6-layer sigmoid network the grader draws (Xavier), per layer."""
    return norms_verdict(student, rng, 6, 16, "sigmoid")


@check(points=2)
def gradient_norms_relu(student, rng):
    """gradient_norms of a 6-layer ReLU network the grader draws (He), per layer."""
    return norms_verdict(student, rng, 6, 16, "relu")


@check(points=1, hidden=True)
def gradient_norms_hidden(student, rng):
    """gradient_norms at a random depth (3 to 9) and width (4 to 24), both activations."""
    verdicts = []
    for activation in ("sigmoid", "relu"):
        depth, width = int(rng.integers(3, 10)), int(rng.integers(4, 25))
        verdicts.append(norms_verdict(student, rng, depth, width, activation))
    return all_of(*verdicts)


@check(points=2)
def experiment(student, rng):
    """Your experiment (depth 10, width 64): first/last layer norm ratio below 1e-2 for sigmoid
    with Xavier (the gradient vanishes) and within [1e-2, 1e2] for ReLU with He."""
    seed = int(rng.integers(2**31))
    result = student.vanishing_experiment(DEPTH, WIDTH, seed)
    if not isinstance(result, dict) or not {"sigmoid", "relu"} <= set(result):
        raise CheckFailed('vanishing_experiment must return {"sigmoid": norms, "relu": norms}')
    ratios = {}
    for key in ("sigmoid", "relu"):
        norms = np.asarray(result[key])
        if norms.shape != (DEPTH,) or norms.dtype.kind != "f":
            raise CheckFailed(
                f"vanishing_experiment: '{key}' norms have shape {norms.shape}, expected ({DEPTH},)"
            )
        if not (np.isfinite(norms).all() and (norms > 0).all()):
            raise CheckFailed(f"vanishing_experiment: '{key}' norms must be finite and positive")
        ratios[key] = float(norms[0] / norms[-1])
    lo, hi = RELU_RATIO_RANGE
    what = f"vanishing_experiment({DEPTH}, {WIDTH}, seed={seed})"
    return all_of(
        Verdict(
            ratios["sigmoid"] < SIGMOID_RATIO_MAX,
            f"{what}: sigmoid first/last layer norm ratio {ratios['sigmoid']:.3g}, expected "
            f"below {SIGMOID_RATIO_MAX:g} (the gradient vanishes)",
        ),
        Verdict(
            lo <= ratios["relu"] <= hi,
            f"{what}: ReLU (He) first/last layer norm ratio {ratios['relu']:.3g}, expected "
            f"within [{lo:g}, {hi:g}]",
        ),
    )
