"""Checks for the losses homework.

Each loss has three kinds of check: its value against reference.losses, its
gradient against the reference AND against centred differences of the
student's own loss (so a report says whether the forward or the backward is
wrong), and, for the losses that take exp or log, a hidden check at extreme
inputs. Hidden checks draw every input from the rng they receive (a secret
per submission). Stability is judged from the values returned alone: the
extreme inputs are where a naive form returns inf or NaN (exp(z) overflows for
z > 709.78, log(0) = -inf), and a form that returns the right values there is
right whatever it did on the way. A last check asks for torch's other
reductions: 'sum', and 'none' (each term's loss, judged against the reference
on that term alone, with the gradient of their sum).

Every input is exactly representable in float32, so a submission computing in
float32 sees the same numbers and is judged at its own resolution (compare
widens the tolerance for float32 answers).
"""

from collections.abc import Callable
from typing import Any

import numpy as np

from grader.checks import CheckFailed, Verdict, all_of, check, compare, own_forward_grad_check
from reference import losses as ref

RTOL, ATOL = 1e-7, 1e-9


def f32(x: np.ndarray) -> np.ndarray:
    """x rounded to float32 and held in float64: the same numbers at either precision."""
    return np.asarray(x, dtype=np.float32).astype(np.float64)


def away(d: np.ndarray, points: tuple[float, ...], gap: float) -> np.ndarray:
    """d moved at least ``gap`` away from each kink in ``points`` (honest finite differences)."""
    d = d.copy()
    for p in points:
        for sign in (1.0, -1.0):
            near = np.abs(d - sign * p) < gap
            d[near] = sign * p + np.where(d[near] >= sign * p, gap, -gap)
    return d


# -- inputs: each returns the positional arguments; the first is the one differentiated


def regression(rng: np.random.Generator, shape: tuple[int, ...]) -> tuple[Any, ...]:
    target = f32(rng.normal(size=shape))
    d = away(rng.normal(0.0, 1.5, size=shape), (0.0,), 0.05)
    return f32(target + d), target


def regression_with_ties(rng: np.random.Generator, shape: tuple[int, ...]) -> tuple[Any, ...]:
    """As ``regression``, with pred == target at two random places: the starter's sign(0) = 0.

    The centred differences of |d| at d = 0 are 0 as well, so the slopes of the
    student's own loss agree with that convention there.
    """
    pred, target = regression(rng, shape)
    ties = rng.choice(pred.size, size=2, replace=False)
    pred.flat[ties] = target.flat[ties]
    return pred, target


def smooth_l1_inputs(rng: np.random.Generator, shape: tuple[int, ...]) -> tuple[Any, ...]:
    beta = float(f32(rng.uniform(0.5, 2.0)))
    target = f32(rng.normal(size=shape))
    d = away(rng.uniform(-2.5 * beta, 2.5 * beta, size=shape), (0.0, beta), 0.05)
    # One element on each side of the band, so both branches are exercised.
    d.flat[0], d.flat[-1] = 0.5 * beta, -2.0 * beta
    pred = f32(target + d)
    return pred, target, beta


def probabilities(rng: np.random.Generator, shape: tuple[int, ...]) -> tuple[Any, ...]:
    p = f32(rng.uniform(0.05, 0.95, size=shape))
    t = rng.integers(0, 2, size=shape).astype(np.float64)
    t.flat[0] = float(f32(rng.uniform(0.1, 0.9)))  # a soft target too
    return p, t


def logits_and_targets(rng: np.random.Generator, shape: tuple[int, ...]) -> tuple[Any, ...]:
    z = f32(rng.normal(0.0, 3.0, size=shape))
    t = rng.integers(0, 2, size=shape).astype(np.float64)
    t.flat[0] = float(f32(rng.uniform(0.1, 0.9)))
    return z, t


def classification(rng: np.random.Generator, shape: tuple[int, ...]) -> tuple[Any, ...]:
    z = f32(rng.normal(0.0, 2.0, size=shape))
    return z, rng.integers(0, shape[1], size=shape[0])


def log_probs(rng: np.random.Generator, shape: tuple[int, ...]) -> tuple[Any, ...]:
    z = rng.normal(0.0, 2.0, size=shape)
    lp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return f32(lp), rng.integers(0, shape[1], size=shape[0])


def focal_inputs(rng: np.random.Generator, shape: tuple[int, ...]) -> tuple[Any, ...]:
    z, y = classification(rng, shape)
    return z, y, float(f32(rng.uniform(0.5, 3.0)))


ELEMENTWISE = ((4, 3), (7,))
BATCHES = ((5, 4), (1, 3))
LOSSES: dict[str, tuple[Callable[..., tuple[Any, ...]], tuple[tuple[int, ...], ...], str]] = {
    "mse_loss": (regression, ELEMENTWISE, "pred"),
    "mae_loss": (regression_with_ties, ELEMENTWISE, "pred"),
    "smooth_l1_loss": (smooth_l1_inputs, ELEMENTWISE, "pred"),
    "bce_loss": (probabilities, ELEMENTWISE, "prob"),
    "bce_with_logits_loss": (logits_and_targets, ELEMENTWISE, "logits"),
    "cross_entropy_loss": (classification, BATCHES, "logits"),
    "nll_loss": (log_probs, BATCHES, "log_probs"),
    "focal_loss": (focal_inputs, BATCHES, "logits"),
}


def label(name: str, args: tuple[Any, ...], first: str) -> str:
    extra = "".join(f", {a:g}" for a in args[2:])
    return f"{name}({first} {np.shape(args[0])}{extra})"


def loss_and_grad(value: Any, what: str) -> tuple[float, Any]:
    """The (loss, grad) pair a student's loss returned, or a message saying what came back."""
    if not isinstance(value, tuple | list) or len(value) != 2:
        raise CheckFailed(f"{what} must return a pair (loss, grad); got {type(value).__name__}")
    loss, grad = value
    arr = np.asarray(loss) if isinstance(loss, np.ndarray | int | float) else None
    if arr is None or arr.size != 1 or arr.dtype.kind not in "iuf":
        raise CheckFailed(f"{what}: the loss must be a single number; got {type(loss).__name__}")
    return float(arr.reshape(())), grad


def own_slope(student: Any, name: str, args: tuple[Any, ...], grad: Any, what: str) -> Verdict:
    """The student's gradient against centred differences of the student's own loss."""

    def loss_at(x: np.ndarray) -> float:
        return loss_and_grad(student.call(name, x, *args[1:]), what)[0]

    return own_forward_grad_check(
        grad,
        loss_at,
        args[0],
        None,
        name=f"{what}: grad vs slopes of your own {name}",
        forward="loss",
    )


def _value_check(name: str) -> Any:
    make, shapes, first = LOSSES[name]

    def run(student: Any, rng: np.random.Generator) -> Verdict:
        verdicts = []
        for shape in shapes:
            args = make(rng, shape)
            what = label(name, args, first)
            loss, _ = loss_and_grad(student.call(name, *args), what)
            expected, _ = getattr(ref, name)(*args)
            verdicts.append(compare(loss, expected, rtol=RTOL, atol=ATOL, name=f"{what}: loss"))
        return all_of(*verdicts)

    run.__doc__ = f"{name}: the loss value on random inputs, against the reference."
    return check(points=1, name=name)(run)


def _grad_check(name: str) -> Any:
    make, shapes, first = LOSSES[name]

    def run(student: Any, rng: np.random.Generator) -> Verdict:
        verdicts = []
        for shape in shapes:
            args = make(rng, shape)
            what = label(name, args, first)
            _, grad = loss_and_grad(student.call(name, *args), what)
            _, expected = getattr(ref, name)(*args)
            verdicts.append(
                compare(grad, expected, rtol=RTOL, atol=ATOL, name=f"{what}: d loss / d {first}")
            )
            verdicts.append(own_slope(student, name, args, grad, what))
        return all_of(*verdicts)

    run.__doc__ = (
        f"{name}: the gradient against the reference and against finite differences "
        "of your own loss."
    )
    return check(points=1, name=name + "_grad")(run)


for _name in LOSSES:
    globals()["check_" + _name] = _value_check(_name)
    globals()["check_" + _name + "_grad"] = _grad_check(_name)


def extreme_logits(
    rng: np.random.Generator, n: int = 6, c: int = 4
) -> tuple[np.ndarray, np.ndarray]:
    """Rows centred at +-700..1000 whose entries are at least 60 apart, and labels.

    exp overflows (or every term underflows to 0) in each row, so a softmax
    without the max shift returns NaN. The gaps make each row's softmax one-hot
    to within exp(-60); half the labels are the row's largest logit, half are
    not, so the gradient has entries near -1/N and +1/N.
    """
    centre = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)[:, None] * rng.uniform(700, 1000, (n, 1))
    spread = np.stack([rng.permutation(c) for _ in range(n)]) * rng.uniform(60.0, 100.0, (n, 1))
    z = f32(centre + spread)
    top = np.argmax(z, axis=1)
    other = (top + 1 + rng.integers(0, c - 1, size=n)) % c
    labels = np.where(rng.permutation(np.arange(n) % 2 == 0), top, other)
    return z, labels


def _judge(student: Any, name: str, args: tuple[Any, ...], what: str) -> Verdict:
    loss, grad = loss_and_grad(student.call(name, *args), what)
    expected, expected_grad = getattr(ref, name)(*args)
    return all_of(
        compare(loss, expected, rtol=RTOL, atol=ATOL, name=f"{what}: loss"),
        compare(grad, expected_grad, rtol=RTOL, atol=ATOL, name=f"{what}: grad"),
    )


@check(points=1, hidden=True)
def cross_entropy_loss_stable(student, rng):
    """cross_entropy_loss at logits near +-1000: right, finite loss and gradient."""
    z, y = extreme_logits(rng)
    return _judge(student, "cross_entropy_loss", (z, y), "cross_entropy_loss at |logits| ~ 1000")


@check(points=1, hidden=True)
def focal_loss_stable(student, rng):
    """focal_loss at logits near +-1000: right, finite loss and gradient."""
    z, y = extreme_logits(rng)
    gamma = float(f32(rng.uniform(1.0, 3.0)))
    return _judge(
        student, "focal_loss", (z, y, gamma), f"focal_loss(gamma={gamma:g}) at |logits| ~ 1000"
    )


@check(points=1, hidden=True)
def bce_with_logits_loss_stable(student, rng):
    """bce_with_logits_loss at |logits| from 40 to 1000, where sigmoid rounds to 0 or 1, and
    at least one logit past exp's range (|z| > 709.78) on each side."""
    magnitude = np.exp(rng.uniform(np.log(40.0), np.log(1000.0), 8))
    magnitude[:2] = rng.uniform(710.0, 1000.0, 2)  # exp(-z) overflows at one, exp(z) at the other
    z = f32(np.where(np.arange(8) % 2 == 0, 1.0, -1.0) * magnitude)
    z = rng.permutation(z)
    t = rng.permutation(np.arange(8) % 2).astype(np.float64)
    return _judge(student, "bce_with_logits_loss", (z, t), "bce_with_logits_loss at |z| up to 1000")


@check(points=1, hidden=True)
def bce_loss_stable(student, rng):
    """bce_loss at probabilities of exactly 0 and 1: the loss clamps each log at -100, as torch."""
    p = rng.permutation(np.array([0.0, 1.0, 0.0, 1.0, 0.5, 0.25]))
    t = rng.permutation(np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.0]))
    loss, _ = loss_and_grad(student.bce_loss(p, t), "bce_loss at p in {0, 1}")
    expected, _ = ref.bce_loss(p, t)
    return compare(loss, expected, rtol=RTOL, atol=ATOL, name="bce_loss at p in {0, 1}: loss")


def terms(name: str, args: tuple[Any, ...]) -> np.ndarray:
    """Each term's loss from the reference: one element (or one sample's row) at a time."""
    x, other, *extra = args
    if name in ("cross_entropy_loss", "nll_loss", "focal_loss"):
        return np.array(
            [getattr(ref, name)(x[i : i + 1], other[i : i + 1], *extra)[0] for i in range(len(x))]
        )
    out = np.empty(x.shape)
    for idx in np.ndindex(x.shape):
        out[idx] = getattr(ref, name)(x[idx][None], other[idx][None], *extra)[0]
    return out


def as_array(value: Any) -> Any:
    """A list of numbers (NumPy scalars among them, which arrive as 0-d arrays) as an array."""
    if isinstance(value, list | tuple):
        try:
            arr = np.asarray(value)
        except (ValueError, TypeError):
            return value
        return arr if arr.dtype.kind in "biuf" else value
    return value


@check(points=2)
def reductions(student, rng):
    """Every loss with reduction='sum' (loss and gradient times the number of terms) and
    reduction='none' (each element's or sample's loss, and the gradient of their sum)."""
    verdicts = []
    for name, (make, shapes, first) in LOSSES.items():
        args = make(rng, shapes[0])
        what = label(name, args, first)
        mean, grad = getattr(ref, name)(*args)
        per = terms(name, args)
        for reduction, expected in (("sum", mean * per.size), ("none", per)):
            got = student.call(name, *args, reduction=reduction)
            if not isinstance(got, tuple | list) or len(got) != 2:
                raise CheckFailed(f"{name}(..., reduction='{reduction}') must return (loss, grad)")
            tag = f"{what} reduction='{reduction}'"
            loss = as_array(got[0])
            verdicts.append(compare(loss, expected, rtol=RTOL, atol=ATOL, name=f"{tag}: loss"))
            verdicts.append(
                compare(got[1], grad * per.size, rtol=RTOL, atol=ATOL, name=f"{tag}: grad")
            )
    return all_of(*verdicts)
