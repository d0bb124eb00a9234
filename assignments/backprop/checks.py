"""Checks for the back-propagation homework.

Every backward is judged twice: against reference.layers (the right answer)
and against centred differences of the student's OWN forward (so the report
says whether the forward or the backward is wrong), with the failing input or
parameter and its index named. The two-layer network's gradients are checked
the same way, parameter by parameter, and the lecture notes' worked example is
a visible check with the notes' printed numbers.

Hidden checks draw their inputs from the rng they receive (a secret per
submission). Stability is judged from values alone: sigmoid at |x| up to 1000,
where exp overflows. Every input is exactly representable in float32, so a
float32 submission sees the same numbers and is judged at its own resolution.
"""

from collections.abc import Callable
from typing import Any

import numpy as np

from grader.checks import (
    CheckFailed,
    Verdict,
    all_of,
    check,
    compare,
    own_forward_grad_check,
    unchanged,
)
from reference import layers as ref

RTOL, ATOL = 1e-7, 1e-9


def f32(x: Any) -> np.ndarray:
    """x rounded to float32 and held in float64: the same numbers at either precision."""
    return np.asarray(x, dtype=np.float32).astype(np.float64)


def away_from_zero(rng: np.random.Generator, shape: tuple[int, ...], scale: float = 2.0):
    x = rng.normal(0.0, scale, size=shape)
    return f32(np.where(np.abs(x) < 0.05, np.sign(x + 1e-12) * 0.05 + x, x))


def pair(value: Any, what: str) -> tuple[Any, Any]:
    if not isinstance(value, tuple | list) or len(value) != 2:
        raise CheckFailed(f"{what} must return a pair; got {type(value).__name__}")
    return value[0], value[1]


def grads_of(value: Any, count: int, what: str) -> tuple[Any, ...]:
    """The gradients a backward returned: one array, or a tuple of ``count``."""
    if count == 1 and not isinstance(value, tuple | list):
        return (value,)
    if not isinstance(value, tuple | list) or len(value) != count:
        raise CheckFailed(f"{what} must return {count} gradients; got {type(value).__name__}")
    return tuple(value)


# -- the layers ------------------------------------------------------------------------


def affine_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {
        "x": f32(rng.normal(size=(2, 2, 3))),
        "w": f32(rng.normal(0.0, 0.5, size=(6, 3))),
        "b": f32(rng.normal(size=3)),
    }


LAYERS: dict[str, Callable[[np.random.Generator], dict[str, np.ndarray]]] = {
    "affine": affine_inputs,
    "relu": lambda rng: {"x": away_from_zero(rng, (3, 4))},
    "sigmoid": lambda rng: {"x": f32(rng.normal(0.0, 2.0, size=(3, 4)))},
    "tanh": lambda rng: {"x": f32(rng.normal(0.0, 1.5, size=(3, 4)))},
}


def _forward_check(layer: str) -> Any:
    fwd = layer + "_forward"

    def run(student: Any, rng: np.random.Generator) -> Verdict:
        inputs = LAYERS[layer](rng)
        out, _ = pair(student.call(fwd, *inputs.values()), fwd)
        expected, _ = getattr(ref, fwd)(*inputs.values())
        return compare(out, expected, rtol=RTOL, atol=ATOL, name=f"{fwd}: out")

    run.__doc__ = f"{fwd} on random inputs, against the reference."
    return check(points=1, name=fwd)(run)


def _backward_check(layer: str) -> Any:
    fwd, bwd = layer + "_forward", layer + "_backward"

    def run(student: Any, rng: np.random.Generator) -> Verdict:
        inputs = LAYERS[layer](rng)
        names = list(inputs)
        expected_out, ref_cache = getattr(ref, fwd)(*inputs.values())
        dout = f32(rng.normal(size=expected_out.shape))
        _, cache = pair(student.call(fwd, *inputs.values()), fwd)
        got = grads_of(student.call(bwd, dout, cache), len(names), bwd)
        expected = grads_of(getattr(ref, bwd)(dout, ref_cache), len(names), bwd)
        verdicts = []
        for i, name in enumerate(names):
            verdicts.append(
                compare(got[i], expected[i], rtol=RTOL, atol=ATOL, name=f"{bwd}: d{name}")
            )

            def value_at(v: np.ndarray, i: int = i) -> Any:
                args = [v if j == i else a for j, a in enumerate(inputs.values())]
                return pair(student.call(fwd, *args), fwd)[0]

            verdicts.append(
                own_forward_grad_check(
                    got[i],
                    value_at,
                    inputs[name],
                    dout,
                    name=f"{bwd}: d{name} vs slopes of your {fwd}",
                    forward=fwd,
                )
            )
        return all_of(*verdicts)

    run.__doc__ = (
        f"{bwd}: every gradient against the reference and finite differences of your {fwd}."
    )
    return check(points=2, name=bwd)(run)


for _layer in LAYERS:
    globals()[f"check_{_layer}_forward"] = _forward_check(_layer)
    globals()[f"check_{_layer}_backward"] = _backward_check(_layer)


@check(points=1, hidden=True)
def sigmoid_large_inputs(student, rng):
    """sigmoid_forward and sigmoid_backward at random |x| up to 1000 (exp overflows there)."""
    x = f32(
        np.where(rng.permutation(np.arange(12) % 2 == 0), 1.0, -1.0)
        * np.exp(rng.uniform(0.0, np.log(1000.0), 12))
    )
    # At every seed: one entry past exp's overflow on each side, and one where the
    # derivative is far from 0 (so a backward that drops dout is seen), each at a place
    # of its own (two draws of one place would leave only the second).
    up, down, middle = rng.choice(12, size=3, replace=False)
    x[up] = f32(rng.uniform(710.0, 1000.0))
    x[down] = f32(-rng.uniform(710.0, 1000.0))
    x[middle] = f32(rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 3.0))
    out, cache = pair(student.sigmoid_forward(x), "sigmoid_forward")
    expected, ref_cache = ref.sigmoid_forward(x)
    dout = f32(rng.normal(size=x.shape))
    return all_of(
        compare(out, expected, rtol=RTOL, atol=ATOL, name="sigmoid_forward at |x| up to 1000"),
        compare(
            student.sigmoid_backward(dout, cache),
            ref.sigmoid_backward(dout, ref_cache),
            rtol=RTOL,
            atol=ATOL,
            name="sigmoid_backward at |x| up to 1000",
        ),
    )


@check(points=1, hidden=True)
def relu_at_zero(student, rng):
    """relu_backward at x = 0 passes no gradient (relu'(0) = 0, as the notes and torch)."""
    x = away_from_zero(rng, (10,))
    x[rng.choice(10, size=3, replace=False)] = 0.0
    dout = f32(rng.normal(size=10))
    _, cache = pair(student.relu_forward(x), "relu_forward")
    _, ref_cache = ref.relu_forward(x)
    return compare(
        student.relu_backward(dout, cache),
        ref.relu_backward(dout, ref_cache),
        rtol=RTOL,
        atol=ATOL,
        name="relu_backward with x = 0 at 3 places",
    )


# -- the two-layer network ---------------------------------------------------------------


def reference_net(x, target, params) -> tuple[float, dict[str, np.ndarray]]:
    """The notes' net from reference.layers: E = sum 1/2 (target - out)^2 and its gradients."""
    h_pre, c1 = ref.affine_forward(x, params["W1"], params["b1"])
    h, c2 = ref.sigmoid_forward(h_pre)
    o_pre, c3 = ref.affine_forward(h, params["W2"], params["b2"])
    out, c4 = ref.sigmoid_forward(o_pre)
    diff = out - target
    dh, dW2, db2 = ref.affine_backward(ref.sigmoid_backward(diff, c4), c3)
    _, dW1, db1 = ref.affine_backward(ref.sigmoid_backward(dh, c2), c1)
    return float(0.5 * np.sum(diff * diff)), {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


def net_inputs(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    x = f32(rng.normal(size=(4, 3)))
    target = f32(rng.uniform(0.0, 1.0, size=(4, 2)))
    params = {
        "W1": f32(rng.normal(0.0, 0.8, size=(3, 4))),
        "b1": f32(rng.normal(0.0, 0.5, size=4)),
        "W2": f32(rng.normal(0.0, 0.8, size=(4, 2))),
        "b2": f32(rng.normal(0.0, 0.5, size=2)),
    }
    return x, target, params


def net_result(value: Any) -> tuple[Any, dict[str, Any]]:
    loss, grads = pair(value, "two_layer_net")
    if not isinstance(grads, dict) or set(grads) != {"W1", "b1", "W2", "b2"}:
        keys = sorted(grads) if isinstance(grads, dict) else type(grads).__name__
        raise CheckFailed(f"two_layer_net: grads must be a dict with W1, b1, W2, b2; got {keys}")
    return loss, grads


@check(points=2)
def two_layer_net_loss(student, rng):
    """two_layer_net's loss E = sum 1/2 (target - out)^2 on a random batch of 4."""
    x, target, params = net_inputs(rng)
    loss, _ = net_result(student.two_layer_net(x, target, params))
    expected, _ = reference_net(x, target, params)
    return compare(loss, expected, rtol=RTOL, atol=ATOL, name="two_layer_net: loss")


@check(points=3)
def two_layer_net_grads(student, rng):
    """Each parameter's gradient against the reference and finite differences of your loss."""
    x, target, params = net_inputs(rng)
    _, grads = net_result(student.two_layer_net(x, target, params))
    _, expected = reference_net(x, target, params)
    verdicts = []
    for key in ("W1", "b1", "W2", "b2"):
        what = f"two_layer_net: grads['{key}']"
        verdicts.append(compare(grads[key], expected[key], rtol=RTOL, atol=ATOL, name=what))

        def loss_at(v: np.ndarray, key: str = key) -> Any:
            return net_result(student.two_layer_net(x, target, {**params, key: v}))[0]

        verdicts.append(
            own_forward_grad_check(
                grads[key],
                loss_at,
                params[key],
                None,
                name=f"{what} vs slopes of your loss",
                forward="loss",
            )
        )
    return all_of(*verdicts)


@check(points=1)
def sgd_update(student, rng):
    """sgd_update: params - learning_rate * grads, for every parameter, in a NEW dict (params
    and grads left as they were)."""
    _, _, params = net_inputs(rng)
    _, _, grads = net_inputs(rng)
    lr = float(f32(rng.uniform(0.01, 1.0)))
    watched = student.call_watched("sgd_update", params, grads, lr)
    got = watched.value
    if not isinstance(got, dict) or set(got) != set(params):
        raise CheckFailed("sgd_update must return a dict with the same keys as params")
    return all_of(
        *(
            compare(
                got[k], params[k] - lr * grads[k], rtol=RTOL, atol=ATOL, name=f"sgd_update: '{k}'"
            )
            for k in params
        ),
        unchanged(watched, {0: "params", 1: "grads"}, call="sgd_update(params, grads, lr)"),
    )


# The notes' worked example: the classic 2-2-2 network (w1..w8, shared biases, sigmoid units).
w1, w2, w3, w4, w5, w6, w7, w8 = 0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55
NOTES_X = np.array([[0.05, 0.10]])
NOTES_TARGET = np.array([[0.01, 0.99]])
# W[i, j] is the weight from input i to unit j: W1 = [[w1, w3], [w2, w4]] and so on.
NOTES_PARAMS = {
    "W1": np.array([[w1, w3], [w2, w4]]),
    "b1": np.array([0.35, 0.35]),
    "W2": np.array([[w5, w7], [w6, w8]]),
    "b2": np.array([0.60, 0.60]),
}


def printed(got: Any, text: str, name: str) -> Verdict:
    """``got`` must round to the number the notes print (half a unit in the last digit)."""
    half_unit = 0.5 * 10.0 ** -len(text.split(".")[1])
    return compare(got, float(text), rtol=0.0, atol=half_unit, name=f"{name} (notes: {text})")


@check(points=2)
def worked_example(student, rng):
    """The notes' 2-2-2 network: E_total = 0.298371109, dE/dw5 = 0.082167041, and w5 becomes
    0.35891648 after one step at learning rate 0.5."""
    loss, grads = net_result(student.two_layer_net(NOTES_X, NOTES_TARGET, NOTES_PARAMS))
    dw5 = np.asarray(grads["W2"])
    if dw5.shape != (2, 2):
        raise CheckFailed(f"grads['W2'] has shape {dw5.shape}, expected (2, 2)")
    after = student.sgd_update(NOTES_PARAMS, grads, 0.5)
    if not isinstance(after, dict) or "W2" not in after or np.shape(after["W2"]) != (2, 2):
        raise CheckFailed("sgd_update must return a dict whose 'W2' has shape (2, 2)")
    return all_of(
        printed(loss, "0.298371109", "E_total"),
        printed(dw5[:1, 0].reshape(()), "0.082167041", "dE/dw5 = grads['W2'][0, 0]"),
        printed(
            np.asarray(after["W2"])[:1, 0].reshape(()), "0.35891648", "w5 after one step at lr 0.5"
        ),
    )
