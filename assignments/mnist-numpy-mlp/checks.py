"""Checks for homework 1: a NumPy multi-layer perceptron that learns MNIST.

The unit checks call the student's functions on inputs drawn here and compare
with reference/ computed here. The gradient checks treat the network as a black
box: they find its parameters (float array attributes whose perturbation moves
forward()'s output), differentiate the cross-entropy of forward()'s
probabilities numerically, take one step() and compare each parameter's change
with -lr times that gradient. The training check trains the student's Network
in the sandbox (or takes the network a script trained at import) and measures
accuracy on the genuine MNIST test images, whose labels never enter the sandbox.
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader.checks import (
    CheckFailed,
    RemoteObject,
    StudentError,
    Verdict,
    accuracy,
    all_of,
    check,
    compare,
    grad_check,
)
from reference import activations as ref_act
from reference import layers as ref_layers
from reference import losses as ref_loss
from reference import optim as ref_optim
from reference.data import load_mnist
from reference.networks import MLP

RTOL, ATOL = 1e-7, 1e-9
# A loss may clip or add an epsilon up to ~1e-7 inside the log: the inputs keep
# every probability above 0.02, so that moves the mean loss by < 1e-5 of itself.
LOSS_RTOL = 1e-5

# The course's training recipe.
EPOCHS = 10
BATCH_SIZE = 64
THRESHOLD = 0.94
INPUTS, CLASSES = 784, 10
DEFAULT_HIDDEN, DEFAULT_LR = 128, 0.1
HIDDEN_RANGE = (8, 2048)
LR_RANGE = (0.0, 10.0)
EPOCH_SECONDS = 120  # per epoch call; the manifest's total_seconds bounds the whole
PREDICT_CHUNK = 2000  # test images per forward() call: bounds every message at ~6 MB

# The public data: genuine training images, split once with a fixed seed.
SPLIT_SEED = 0
N_TRAIN, N_VAL, N_PRACTICE = 50_000, 5_000, 5_000

DATA_README = """\
MNIST for homework 1 (28x28 digits, flattened to 784 pixels scaled to [0, 1]).

X_*.npy: float32 (N, 784); y_*.npy: int64 (N,) class labels 0..9.

  X_train, y_train   50,000 images to train on
  X_val,   y_val      5,000 images to tune hyper-parameters on
  X_test,  y_test     5,000 practice test images

All 60,000 of these come from MNIST's training set. The grade is measured on
MNIST's real test set (10,000 other images), which is never shown to your
code with its labels: the practice test split lets you estimate that number.
"""


# -- data --------------------------------------------------------------------------


def _pixels(images: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) images as float32 (N, 784) in [0, 1]."""
    return images.reshape(images.shape[0], -1).astype(np.float32) / np.float32(255.0)


def public_data(dest: Path) -> None:
    """Write the in-sandbox data under dest/mnist/ (see DATA_README); no genuine test image."""
    splits = load_mnist("mnist")
    x, y = _pixels(splits.X_train), splits.y_train.astype(np.int64)
    out = Path(dest) / "mnist"
    out.mkdir(parents=True, exist_ok=True)
    for name, rows in _split_rows().items():
        np.save(out / f"X_{name}.npy", x[rows], allow_pickle=False)
        np.save(out / f"y_{name}.npy", y[rows], allow_pickle=False)
    (out / "README.txt").write_text(DATA_README)


@functools.lru_cache(maxsize=1)
def _genuine_test() -> tuple[np.ndarray, np.ndarray]:
    """The 10,000 genuine test images (float32, as the training files) and their labels."""
    splits = load_mnist("mnist")
    return _pixels(splits.X_test), splits.y_test.astype(np.int64)


# -- helpers -----------------------------------------------------------------------


def _away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    x = rng.uniform(-3.0, 3.0, size=shape)
    return np.where(np.abs(x) < 0.1, np.sign(x + 1e-12) * 0.1 + x, x)


def _one_hot(labels: np.ndarray, classes: int) -> np.ndarray:
    return np.eye(classes)[labels]


def _probabilities(out: object, n: int, c: int, what: str) -> np.ndarray:
    """forward()'s output as float64 (n, c) probabilities, or CheckFailed saying what is wrong."""
    if not isinstance(out, np.ndarray) or out.dtype.kind not in "iuf":
        raise CheckFailed(f"{what} returned {type(out).__name__}, expected a NumPy float array")
    if out.shape != (n, c):
        raise CheckFailed(f"{what} returned shape {out.shape}, expected ({n}, {c})")
    p = out.astype(np.float64)
    if not np.isfinite(p).all():
        raise CheckFailed(f"{what} returned NaN or inf")
    tol = 1e-5 if out.dtype.itemsize < 8 else 1e-9
    sums = p.sum(axis=1)
    if p.min() < -tol or p.max() > 1 + tol or np.abs(sums - 1).max() > tol:
        row = int(np.argmax(np.abs(sums - 1)))
        raise CheckFailed(
            f"{what} must return probabilities (softmax of the last layer): values in [0, 1], "
            f"rows summing to 1; row {row} sums to {sums[row]:.10g}, values span "
            f"[{p.min():.4g}, {p.max():.4g}]"
        )
    return p


def _scalar(value: object) -> object:
    """A 0-d array (how a NumPy scalar crosses the boundary) as a Python number."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value.item()
    return value


# -- unit checks -------------------------------------------------------------------


@check(points=1)
def relu(student, rng):
    """relu(x) = max(x, 0) on a (8, 10) batch."""
    x = _away_from_zero(rng, (8, 10))
    return compare(student.relu(x), ref_act.relu(x), rtol=RTOL, atol=ATOL, name="relu(x)")


@check(points=1)
def relu_prime(student, rng):
    """relu_prime(x) against the reference derivative and finite differences of relu."""
    x = _away_from_zero(rng, (8, 10))
    got = student.relu_prime(x)
    return all_of(
        compare(got, ref_act.relu_grad(x), rtol=RTOL, atol=ATOL, name="relu_prime(x)"),
        grad_check(got, ref_act.relu, x, np.ones_like(x), name="relu_prime(x)"),
    )


@check(points=1, hidden=True)
def relu_prime_at_zero(student, rng):
    """At the kink the course takes relu'(0) = 0."""
    x = np.array([[-2.0, 0.0, 3.0]])
    return all_of(
        compare(student.relu(x), [[0.0, 0.0, 3.0]], name="relu at -2, 0, 3"),
        compare(student.relu_prime(x), [[0.0, 0.0, 1.0]], name="relu_prime at -2, 0, 3"),
    )


@check(points=2)
def f(student, rng):
    """f(x): softmax of each row of a (6, 10) batch; rows sum to 1."""
    x = rng.normal(0.0, 3.0, size=(6, 10))
    got = student.f(x)
    verdict = compare(got, ref_act.softmax(x, axis=-1), rtol=RTOL, atol=ATOL, name="f(x)")
    if not verdict.passed:
        return verdict
    return compare(np.sum(got, axis=-1), np.ones(6), rtol=0, atol=1e-12, name="row sums of f(x)")


@check(points=1, hidden=True)
def f_large_logits(student, rng):
    """f(x) for logits near +-1000: no overflow, no NaN (subtract each row's max first)."""
    x = np.array([[1000.0, 999.0, -1000.0], [-1000.0, -999.5, -1001.0], [0.0, 1000.0, 1.0]])
    return compare(
        student.strict.f(x),
        ref_act.softmax(x, axis=-1),
        rtol=RTOL,
        atol=ATOL,
        name="f(x) at |x| ~ 1000",
    )


@check(points=1)
def f_prime(student, rng):
    """f_prime(x) = s * (1 - s), s = f(x): the diagonal of each row's softmax Jacobian."""
    x = rng.normal(0.0, 2.0, size=(5, 10))
    expected = np.stack([np.diag(ref_act.softmax_jacobian(row)) for row in x])
    return compare(student.f_prime(x), expected, rtol=RTOL, atol=ATOL, name="f_prime(x)")


def _batch(rng: np.random.Generator, n: int, c: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Logits (n, c) with every softmax probability above 0.02, labels (n,), one-hot (n, c)."""
    logits = rng.normal(0.0, 0.5, size=(n, c))
    labels = rng.permutation(np.arange(n) % c)
    return logits, labels, _one_hot(labels, c)


@check(points=2)
def loss_fn(student, rng):
    """loss_fn(y_true, y_pred): cross-entropy with one-hot y_true, averaged over the batch."""
    logits, labels, y_true = _batch(rng, 8, 10)
    y_pred = ref_act.softmax(logits, axis=-1)
    expected, _ = ref_loss.nll_loss(np.log(y_pred), labels)
    got = _scalar(student.loss_fn(y_true, y_pred))
    return compare(got, expected, rtol=LOSS_RTOL, atol=ATOL, name="loss_fn(y_true, y_pred)")


@check(points=1, hidden=True)
def loss_fn_zero_probability(student, rng):
    """A probability of exactly 0 for a wrong class must not turn the loss into NaN."""
    logits, labels, y_true = _batch(rng, 6, 10)
    y_pred = ref_act.softmax(logits, axis=-1)
    wrong = (labels + 1) % 10
    y_pred[np.arange(6), wrong] = 0.0
    y_pred /= y_pred.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore"):
        expected, _ = ref_loss.nll_loss(np.log(y_pred), labels)
    got = _scalar(student.loss_fn(y_true, y_pred))
    return compare(
        got,
        expected,
        rtol=LOSS_RTOL,
        atol=ATOL,
        name="loss_fn(y_true, y_pred) where y_pred has zeros for wrong classes",
    )


@check(points=2)
def loss_fn_prime(student, rng):
    """loss_fn_prime(y_true, y_pred) = d loss / d logits (through the softmax) = (y_pred - y)/N."""
    logits, labels, y_true = _batch(rng, 8, 10)
    y_pred = ref_act.softmax(logits, axis=-1)
    _, expected = ref_loss.cross_entropy_loss(logits, labels)
    return compare(
        student.loss_fn_prime(y_true, y_pred),
        expected,
        rtol=RTOL,
        atol=ATOL,
        name="loss_fn_prime(y_true, y_pred)",
    )


def _init_verdict(w: object, shape: tuple[int, int]) -> Verdict:
    label = f"init_weights({shape})"
    if not isinstance(w, np.ndarray) or w.dtype.kind != "f":
        return Verdict(False, f"{label}: expected a float array, got {type(w).__name__}")
    if w.shape != shape:
        return Verdict(False, f"{label}: shape {w.shape}, expected {shape}")
    if not np.isfinite(w).all():
        return Verdict(False, f"{label}: contains NaN or inf")
    w = w.astype(np.float64)
    std, mean = float(w.std()), float(w.mean())
    a, b = shape
    # From LeCun's 1/sqrt(fan) with the larger fan, halved, up to He's sqrt(2/fan) with
    # the smaller fan, x 1.5: He and Xavier pass whichever dimension the student calls fan_in.
    lo, hi = 0.5 / math.sqrt(max(a, b)), 1.5 * math.sqrt(2.0 / min(a, b))
    if not lo <= std <= hi:
        return Verdict(
            False,
            f"{label}: standard deviation {std:.4g} is outside [{lo:.4g}, {hi:.4g}]; scale by the "
            f"fan-in, e.g. He: sqrt(2 / {a}) = {math.sqrt(2.0 / a):.4g}",
        )
    # Five standard errors: a correct random init fails this about once in two million.
    limit = 5.0 * std / math.sqrt(w.size)
    if abs(mean) > limit:
        return Verdict(False, f"{label}: mean {mean:.4g}, expected 0 (within {limit:.2g})")
    return Verdict(True, f"{label}: mean {mean:.3g}, std {std:.4g}")


@check(points=2)
def init_weights(student, rng):
    """init_weights(shape): finite, mean ~0, std scaled by the fan (He or Xavier), not constant."""
    verdicts = [_init_verdict(student.init_weights(s), s) for s in ((784, 256), (256, 10))]
    return all_of(*verdicts)


@check(points=2)
def forward_probabilities(student, rng):
    """Network(784, 32, 10).forward(x) of 16 images gives (16, 10) rows of probabilities."""
    net = student.new("Network", INPUTS, 32, CLASSES)
    x = rng.random((16, INPUTS)).astype(np.float32)
    p = _probabilities(net.forward(x), 16, CLASSES, "Network(784, 32, 10).forward(x) for 16 images")
    return Verdict(True, f"16 rows of probabilities, the largest {p.max():.3g}")


# -- one step against the numerical gradient ---------------------------------------------


class _Probe:
    """A small student Network, a fixed batch, and the loss of its forward() on it."""

    def __init__(
        self, student, sizes: tuple[int, int, int], n: int, lr: float, rng: np.random.Generator
    ) -> None:
        self.d, self.h, self.c = sizes
        self.n, self.lr = n, lr
        self.label = f"Network({self.d}, {self.h}, {self.c}, lr={lr:g})"
        self.net: RemoteObject = student.new("Network", *sizes, lr=lr)
        self.x = rng.standard_normal((n, self.d))
        self.labels = rng.permutation(np.arange(n) % self.c)
        self.y = _one_hot(self.labels, self.c)
        self.low_precision = False

    def probabilities(self) -> np.ndarray:
        out = self.net.forward(self.x)
        if isinstance(out, np.ndarray) and out.dtype.kind == "f" and out.dtype.itemsize < 8:
            self.low_precision = True
        return _probabilities(out, self.n, self.c, f"{self.label}.forward(x)")

    def loss(self) -> float:
        """Mean cross-entropy (reference) of forward()'s probabilities for the batch."""
        with np.errstate(divide="ignore"):
            return ref_loss.nll_loss(np.log(self.probabilities()), self.labels)[0]

    def parameters(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Float array attributes that forward() reads, set to values drawn here.

        Every candidate gets fresh values first (a zero initialisation would hide
        the first layer), then counts as a parameter if nudging it moves the output.
        Caches and gradient buffers are candidates too, but forward() overwrites
        or ignores them, so they drop out and get their own values back.
        """
        self.probabilities()  # lets a network that builds arrays lazily build them
        candidates = {
            name: arr
            for name, arr in sorted(self.net.arrays().items())
            if arr.ndim >= 1 and 0 < arr.size <= 100_000 and np.isfinite(arr).all()
        }
        for name, arr in candidates.items():
            if arr.dtype.itemsize < 8:
                self.low_precision = True
            self.net.set(name, self._draw(rng, arr))
        values = {name: np.array(v) for name, v in self.net.arrays().items() if name in candidates}
        base = self.probabilities()
        found = {}
        for name, value in values.items():
            nudged = value + rng.normal(0.0, 1e-2, size=value.shape).astype(value.dtype)
            self.net.set(name, nudged)
            moved = np.abs(self.probabilities() - base).max() > 1e-7
            self.net.set(name, value)
            if moved:
                found[name] = value
            else:
                self.net.set(name, candidates[name])
        if not found:
            raise CheckFailed(
                f"{self.label}: found no parameters. Keep the weights and biases as NumPy array "
                f"attributes of the network (self.W1, self.b1, ...) that forward() reads"
            )
        return found

    @staticmethod
    def _draw(rng: np.random.Generator, like: np.ndarray) -> np.ndarray:
        # std 0.5 keeps the logits O(1): softmax neither saturated nor flat.
        return rng.normal(0.0, 0.5, size=like.shape).astype(like.dtype)

    def redraw(self, params: dict[str, np.ndarray], rng: np.random.Generator) -> dict:
        fresh = {name: self._draw(rng, v) for name, v in params.items()}
        for name, v in fresh.items():
            self.net.set(name, v)
        return fresh

    def numerical_gradient(self, params: dict[str, np.ndarray]) -> dict[str, np.ndarray] | None:
        """Centred differences of loss() for every parameter entry; None where a ReLU kink lies
        within a step (the two one-sided slopes disagree), so the caller can move the point."""
        h = 1e-3 if self.low_precision else 1e-6
        base = self.loss()
        grads = {}
        for name, value in params.items():
            g = np.zeros(value.shape)
            for i in range(value.size):
                plus, minus = value.copy(), value.copy()
                plus.flat[i] += h
                minus.flat[i] -= h
                self.net.set(name, plus)
                lp = self.loss()
                self.net.set(name, minus)
                lm = self.loss()
                step = float(plus.flat[i]) - float(minus.flat[i])
                # Smooth: |lp - 2 base + lm| ~ h^2 |L''|, far below 100 h^2 here; a kink: ~ h.
                if abs(lp - 2.0 * base + lm) > 100.0 * (step / 2.0) ** 2:
                    self.net.set(name, value)
                    return None
                g.flat[i] = (lp - lm) / step
            self.net.set(name, value)
            grads[name] = g
        return grads


def _ratio_hint(delta: np.ndarray, expected: np.ndarray) -> str:
    """When the change is the expected one times a constant, say which constant."""
    norm = float(np.sum(expected * expected))
    if not np.any(delta):
        return " (step() did not change it)"
    if norm == 0.0:
        return ""
    r = float(np.sum(delta * expected)) / norm
    if np.linalg.norm(delta - r * expected) > 1e-3 * math.sqrt(norm):
        return ""
    if abs(r + 1.0) < 1e-3:
        return " (the sign is wrong: step() must subtract lr * gradient)"
    return f" (it is {r:.4g} x the expected change: check the learning rate and the 1/N factor)"


def _judge_step(probe: _Probe, grads: dict[str, np.ndarray], before: dict, after: dict) -> Verdict:
    lr, n = probe.lr, probe.n
    deltas = {}
    for name, old in before.items():
        new = after.get(name)
        if new is None:
            raise CheckFailed(f"{probe.label}.step(x, y): the attribute {name} is gone afterwards")
        if new.size != old.size:
            raise CheckFailed(
                f"{probe.label}.step(x, y) changed the shape of {name} from {old.shape} to "
                f"{new.shape}"
            )
        deltas[name] = new.astype(np.float64).reshape(old.shape) - old.astype(np.float64)
    rtol, frac = (2e-2, 2e-3) if probe.low_precision else (1e-5, 1e-6)
    scalings = {"mean": 1.0, "sum": float(n)}
    words = {"mean": "averaged over the batch", "sum": "summed over the batch"}
    verdicts: dict[str, dict[str, Verdict]] = {}
    for label, scale in scalings.items():
        verdicts[label] = {}
        for name, g in grads.items():
            expected = -lr * scale * g
            atol = frac * float(np.max(np.abs(expected), initial=0.0)) + 1e-12
            verdicts[label][name] = compare(
                deltas[name], expected, rtol=rtol, atol=atol, name=f"change of {name}"
            )
    shapes = ", ".join(f"{k} {v.shape}" for k, v in before.items())
    for label in scalings:
        if all(v.passed for v in verdicts[label].values()):
            return Verdict(
                True,
                f"{probe.label}.step: every parameter ({shapes}) moved by -lr * gradient of the "
                f"cross-entropy {words[label]}",
            )
    # Report against the scaling that more parameters follow (the mean on a tie).
    best = max(scalings, key=lambda s: sum(v.passed for v in verdicts[s].values()))
    other = "sum" if best == "mean" else "mean"
    lines = [
        f"{probe.label}.step(x, y) on a batch of {n}: the change of a parameter must be "
        f"-lr * dL/dparameter, L the cross-entropy {words[best]} (the gradient comes "
        f"from finite differences of your forward(); parameters found: {shapes})"
    ]
    failing = [name for name, v in verdicts[best].items() if not v.passed]
    for name in failing:
        expected = -lr * scalings[best] * grads[name]
        lines.append(verdicts[best][name].message + _ratio_hint(deltas[name], expected))
    mixed = [name for name in failing if verdicts[other][name].passed]
    if mixed:
        lines.append(
            f"{', '.join(mixed)} follow(s) the loss {words[other]} instead: divide every "
            f"gradient by the batch size, or none"
        )
    return Verdict(False, "\n".join(lines))


def _step_check(student, rng, sizes: tuple[int, int, int], n: int, lr: float) -> Verdict:
    """One step() judged at a random test point; a failure counts once a second point agrees.

    In float32 a finite difference can straddle a ReLU kink too narrowly for the
    kink test to see and fake a wrong entry (about 1 point in 70). A wrong step()
    is wrong at every point, so confirming a failure costs a wrong submission
    nothing and turns that false alarm into about 1 in 5,000.
    """
    first = _step_at_random_point(student, rng, sizes, n, lr)
    if first.passed:
        return first
    second = _step_at_random_point(student, rng, sizes, n, lr)
    return second if second.passed else first


def _step_at_random_point(student, rng, sizes: tuple[int, int, int], n: int, lr: float) -> Verdict:
    probe = _Probe(student, sizes, n, lr, rng)
    params = probe.parameters(rng)
    for _ in range(3):
        grads = probe.numerical_gradient(params)
        if grads is not None:
            break
        params = probe.redraw(params, rng)
    else:
        raise CheckFailed(f"{probe.label}: could not find a test point away from ReLU kinks")
    probe.probabilities()  # fresh caches, for a step() that reuses forward()'s
    arrays = probe.net.arrays()
    before = {name: arrays[name] for name in params}
    probe.net.step(probe.x, probe.y)
    return _judge_step(probe, grads, before, probe.net.arrays())


@check(points=6)
def step_gradient(student, rng):
    """One step() of Network(6, 5, 3, lr=0.1) on 4 examples: each parameter moves by -lr * grad."""
    return _step_check(student, rng, (6, 5, 3), n=4, lr=0.1)


@check(points=3, hidden=True)
def step_gradient_other_sizes(student, rng):
    """The same for Network(5, 8, 4, lr=0.05) on 3 examples: nothing hard-coded."""
    return _step_check(student, rng, (5, 8, 4), n=3, lr=0.05)


# -- training on MNIST -------------------------------------------------------------------
#
# Nothing the sandbox says about training is taken on trust. The grader reads the
# network's float array attributes and computes on its own side, with reference/:
#
# 1. Predictions follow from the parameters. Some of the arrays must reproduce
#    forward() as softmax(relu(x W1 + b1) W2 + b2) (either orientation, biases of
#    any vector shape, or none); the accuracy is computed here from those arrays,
#    and forward() must agree with them on every test image. A forward() that
#    looks test images up, or asks another classifier, fails.
# 2. Training starts at chance. Before the first epoch the arrays must classify
#    the test set no better than random weights do: trained weights loaded by
#    __init__ fail.
# 3. Every epoch is SGD. The grader repeats each epoch itself, from the arrays it
#    read before it, on the same batches with the student's learning rate; the
#    arrays after the epoch must land near that result: weights swapped in, or
#    moved by anything but (roughly) SGD, fail. The same arrays are followed from
#    start to end, so a second set kept aside cannot take over later.
#
# A network trained at import (the script form) gets only 1: the grader did not
# watch that training and cannot tell trained weights from shipped ones.

# A freshly initialised network's test accuracy (He, LeCun, Xavier, uniform or
# 0.01-scaled weights, zero or random biases, hidden 8 to 512): mean 10.0%, standard
# deviation 2.7%, highest 22.9% in 2,520 draws.
CHANCE_LIMIT = 0.30
# How far (in units of the epoch's own SGD change) the arrays after an epoch may
# land from the grader's float64 repeat of it. Honest float64 training lands
# within 1e-13. float32 training is chaotic at large learning rates: a rounding
# difference can grow to 0.35 (lr 0.5 to 1) and once to 0.71 (lr 1, 64 hidden
# units) in one epoch. Below 1 an epoch must still be closer to SGD's result than
# standing still is, so neither a no-op step() nor a jump to other weights passes.
SGD_DRIFT_LIMIT = 0.9
# Chaos changes where SGD goes, not how far each weight travels: every parameter that
# carries PACE_SHARE of the epoch's SGD change must move PACE_RANGE times as far as it
# does in the repeat (measured: 0.94 to 1.01, chaotic float32 epochs included). A layer
# left untrained (random features under a trained read-out) or trained at another rate
# fails here even when its share of the change is small enough to slip under the drift.
PACE_SHARE = 0.2
PACE_RANGE = (0.5, 2.0)
PROBE_IMAGES = 50  # training images on which forward() is matched with the arrays
MAX_HIDDEN = 4096  # wider first layers are not searched for (the trusted side pays)
MAX_LAYOUTS = 256  # ways of reading the arrays as W1, b1, W2, b2 tried at most
# forward() against the trusted network: probabilities within PROBABILITY_ATOL, or
# scores (logits, log-probabilities: compared up to a constant per row) within
# SCORE_ATOL + SCORE_RTOL * |score|. float32 forward passes differ by ~1e-6.
PROBABILITY_ATOL = 1e-3
SCORE_ATOL, SCORE_RTOL = 1e-3, 1e-4


def _constant(student, name: str, default: object) -> tuple[object, bool]:
    """A module-level constant of the submission, or the default when it defines none."""
    try:
        return _scalar(student.get(name)), True
    except StudentError as err:
        if err.message.startswith("LookupError"):
            return default, False
        raise


def _hyperparameters(student) -> tuple[int, float]:
    hidden, _ = _constant(student, "HIDDEN_SIZE", DEFAULT_HIDDEN)
    lr, _ = _constant(student, "LEARNING_RATE", DEFAULT_LR)
    lo, hi = HIDDEN_RANGE
    if isinstance(hidden, bool) or not isinstance(hidden, int) or not lo <= hidden <= hi:
        raise CheckFailed(f"HIDDEN_SIZE must be an int from {lo} to {hi}, got {hidden!r}")
    if isinstance(lr, bool) or not isinstance(lr, int | float) or not 0 < lr <= LR_RANGE[1]:
        raise CheckFailed(f"LEARNING_RATE must be a number in (0, {LR_RANGE[1]:g}], got {lr!r}")
    return hidden, float(lr)


def _left_in_global(student) -> RemoteObject | None:
    try:
        return student.trained()
    except CheckFailed:
        return None


# -- the trusted network -------------------------------------------------------------


@dataclass(frozen=True)
class _Layout:
    """Which of a network's arrays are W1, b1, W2, b2 (a missing bias is zero), and how
    they lie: a transposed weight is stored (fan_out, fan_in)."""

    w1: str
    w1_t: bool
    b1: str | None
    w2: str
    w2_t: bool
    b2: str | None
    hidden: int

    def params(self, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray] | None:
        """W1 (D, H), b1 (H,), W2 (H, C), b2 (C,) in float64, or None if an array is
        gone or no longer has the shape it had."""
        w1, w2 = arrays.get(self.w1), arrays.get(self.w2)
        if w1 is None or w2 is None or w1.ndim != 2 or w2.ndim != 2:
            return None
        w1 = (w1.T if self.w1_t else w1).astype(np.float64)
        w2 = (w2.T if self.w2_t else w2).astype(np.float64)
        if w1.shape[1] != self.hidden or w2.shape[0] != self.hidden:
            return None
        b1 = _bias(arrays, self.b1, self.hidden)
        b2 = _bias(arrays, self.b2, w2.shape[1])
        if b1 is None or b2 is None:
            return None
        return {"W1": w1, "b1": b1, "W2": w2, "b2": b2}

    def name_of(self, key: str) -> str:
        """The student's name for W1, b1, W2 or b2."""
        names = {"W1": self.w1, "b1": self.b1, "W2": self.w2, "b2": self.b2}
        return names[key] or f"{key} (absent)"

    def low_precision(self, arrays: dict[str, np.ndarray]) -> bool:
        names = (self.w1, self.b1, self.w2, self.b2)
        return any(arrays[n].dtype.itemsize < 8 for n in names if n is not None and n in arrays)

    def describe(self) -> str:
        """How the arrays are read, e.g. 'W1 = weights_hidden.T, b1, W2, no b2'."""
        parts = []
        for key, name, transposed in (
            ("W1", self.w1, self.w1_t),
            ("b1", self.b1, False),
            ("W2", self.w2, self.w2_t),
            ("b2", self.b2, False),
        ):
            if name is None:
                parts.append(f"no {key}")
            elif name == key and not transposed:
                parts.append(key)
            else:
                parts.append(f"{key} = {name}{'.T' if transposed else ''}")
        return ", ".join(parts)


def _bias(arrays: dict[str, np.ndarray], name: str | None, size: int) -> np.ndarray | None:
    if name is None:
        return np.zeros(size)
    b = arrays.get(name)
    if b is None or not _is_vector(b, size):
        return None
    return b.reshape(size).astype(np.float64)


def _is_vector(a: np.ndarray, size: int) -> bool:
    """A bias of `size` entries: shape (size,), (1, size) or (size, 1)."""
    return a.size == size and (a.ndim == 1 or (a.ndim == 2 and 1 in a.shape))


def _layouts(
    arrays: dict[str, np.ndarray], inputs: int = INPUTS, classes: int = CLASSES
) -> list[_Layout]:
    """Every way of reading the arrays as the course's network, most likely first:
    biases present before absent ones, then names in alphabetical order."""
    usable = {
        name: a
        for name, a in sorted(arrays.items())
        if isinstance(a, np.ndarray) and a.dtype.kind == "f" and 1 <= a.ndim <= 2
        if a.size > 0 and np.isfinite(a).all()
    }
    matrices = {name: a for name, a in usable.items() if a.ndim == 2}

    def weights(rows: int, cols: int | None) -> list[tuple[str, bool, int]]:
        found = []
        for name, a in matrices.items():
            for transposed, (r, c) in ((False, a.shape), (True, a.shape[::-1])):
                if r == rows and (c == cols if cols else c <= MAX_HIDDEN):
                    found.append((name, transposed, c))
        return found

    def biases(size: int) -> list[str | None]:
        return [name for name, a in usable.items() if _is_vector(a, size)] + [None]

    layouts = []
    for w1, w1_t, hidden in weights(inputs, None):
        for w2, w2_t, _ in weights(hidden, classes):
            for b1 in biases(hidden):
                for b2 in biases(classes):
                    layouts.append(_Layout(w1, w1_t, b1, w2, w2_t, b2, hidden))
    layouts.sort(key=lambda lay: (lay.b1 is None) + (lay.b2 is None))
    return layouts


def _scores(params: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """relu(x W1 + b1) W2 + b2 (N, C) in float64, by reference/'s layers, in chunks."""
    out = []
    for start in range(0, x.shape[0], PREDICT_CHUNK):
        part = x[start : start + PREDICT_CHUNK]
        hidden, _ = ref_layers.affine_forward(part, params["W1"], params["b1"])
        active, _ = ref_layers.relu_forward(hidden)
        scores, _ = ref_layers.affine_forward(active, params["W2"], params["b2"])
        out.append(scores)
    return np.concatenate(out)


def _looks_like_probabilities(out: np.ndarray) -> bool:
    return bool(
        out.min() >= -1e-6 and out.max() <= 1 + 1e-6 and np.abs(out.sum(axis=1) - 1).max() < 1e-3
    )


def _disagreement(out: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Per row, forward()'s distance from the trusted network in units of the tolerance
    (above 1: they disagree). Probabilities are compared with softmax(scores); any other
    output as scores up to a constant per row (logits, log-probabilities)."""
    out = out.astype(np.float64)
    if _looks_like_probabilities(out):
        return np.max(np.abs(out - ref_act.softmax(scores, axis=-1)), axis=1) / PROBABILITY_ATOL
    got = out - out.mean(axis=1, keepdims=True)
    want = scores - scores.mean(axis=1, keepdims=True)
    return np.max(np.abs(got - want) / (SCORE_ATOL + SCORE_RTOL * np.abs(want)), axis=1)


@dataclass(frozen=True)
class _Weights:
    """The network's parameters as the grader reads them: the values (float64, W1 (D, H),
    b1 (H,), W2 (H, C), b2 (C,)) and every layout that reads exactly these values from
    the arrays (a zero bias and an absent one, say), most likely first."""

    layouts: tuple[_Layout, ...]
    params: dict[str, np.ndarray]

    def describe(self) -> str:
        return self.layouts[0].describe()


def _best_reading(
    layouts: list[_Layout], arrays: dict[str, np.ndarray], x: np.ndarray, out: np.ndarray
) -> tuple[_Weights | None, float, _Layout | None]:
    """The layouts whose trusted network reproduces forward()'s `out` for x best, if that
    is within the tolerance; and the best distance (in tolerances) with its layout.

    Only the best reading, and the layouts that read the same values, are kept: a
    reading that agrees within the tolerance but less well (a tiny bias left out) would
    only stop agreeing later on.
    """
    best: tuple[float, _Layout, dict[str, np.ndarray]] | None = None
    readings = []
    hidden_cache: dict[tuple, np.ndarray] = {}
    for layout in layouts:
        params = layout.params(arrays)
        if params is None:
            continue
        key = (layout.w1, layout.w1_t, layout.b1)
        if key not in hidden_cache:
            hidden_cache[key] = ref_layers.relu_forward(
                ref_layers.affine_forward(x, params["W1"], params["b1"])[0]
            )[0]
        scores = ref_layers.affine_forward(hidden_cache[key], params["W2"], params["b2"])[0]
        distance = float(_disagreement(out, scores).max())
        readings.append((layout, params))
        if best is None or distance < best[0]:
            best = (distance, layout, params)
    if best is None:
        return None, math.inf, None
    distance, layout, params = best
    if not distance <= 1.0:
        return None, distance, layout
    same = tuple(lay for lay, p in readings if all(np.array_equal(p[k], params[k]) for k in params))
    return _Weights(same, params), distance, layout


def _output(out: object, n: int, what: str) -> np.ndarray:
    """forward()'s result as a finite (n, C) array, or CheckFailed saying what is wrong."""
    if not isinstance(out, np.ndarray) or out.dtype.kind not in "iuf":
        raise CheckFailed(f"{what} returned {type(out).__name__}, expected a NumPy float array")
    if out.shape != (n, CLASSES):
        raise CheckFailed(f"{what} returned shape {out.shape}, expected ({n}, {CLASSES})")
    if not np.isfinite(out).all():
        raise CheckFailed(
            f"{what} returned NaN or inf (training diverged? a learning rate too large for "
            f"your loss's scale does that)"
        )
    return out


def _read_arrays(net: RemoteObject) -> dict[str, np.ndarray]:
    arrays = net.arrays()
    if not isinstance(arrays, dict):
        raise CheckFailed("the network's arrays could not be read (a malformed reply)")
    return {str(k): v for k, v in arrays.items() if isinstance(v, np.ndarray)}


def _inventory(arrays: dict[str, np.ndarray]) -> str:
    shown = [f"{name} {a.shape}" for name, a in sorted(arrays.items())][:12]
    return ", ".join(shown) or "none"


def _identify(net: RemoteObject, x: np.ndarray, what: str) -> _Weights:
    """The network's weights: the arrays that reproduce its forward() on x best."""
    out = _output(net.forward(x), x.shape[0], f"{what}: forward(x) for {x.shape[0]} images")
    arrays = _read_arrays(net)
    layouts = _layouts(arrays)
    formula = "softmax(relu(x W1 + b1) W2 + b2)"
    if not layouts:
        raise CheckFailed(
            f"{what}: the grader computes predictions from the network's weights, as "
            f"{formula}, but found no float array attributes shaped like W1 ({INPUTS}, H) and "
            f"W2 (H, {CLASSES}) (either orientation); arrays found: {_inventory(arrays)}. Keep "
            f"the weights and biases as NumPy array attributes (self.W1, self.b1, ...)"
        )
    if len(layouts) > MAX_LAYOUTS:
        raise CheckFailed(
            f"{what}: {len(layouts)} ways to read the network's float arrays as W1, b1, W2, b2 "
            f"are too many to try; keep fewer float array attributes ({_inventory(arrays)})"
        )
    weights, distance, closest = _best_reading(layouts, arrays, x, out)
    if weights is None:
        assert closest is not None
        raise CheckFailed(
            f"{what}: forward() does not follow from the network's weights. The grader "
            f"computes predictions itself, as {formula}, from float array attributes of the "
            f"network, but no way of reading them ({len(layouts)} tried among "
            f"{_inventory(arrays)}) reproduces forward() on {x.shape[0]} training images "
            f"(closest: {closest.describe()}, off by {distance * PROBABILITY_ATOL:.3g} in "
            f"probability). forward() must compute the network's output from those arrays"
        )
    return weights


def _at_chance(weights: _Weights, what: str) -> None:
    """CheckFailed unless the weights classify the test images no better than random ones."""
    x_test, y_test = _genuine_test()
    acc = float(np.mean(np.argmax(_scores(weights.params, x_test), axis=1) == y_test))
    if acc >= CHANCE_LIMIT:
        raise CheckFailed(
            f"before any training, {what} already classifies {acc:.2%} of the test images "
            f"correctly (computed from its weights: {weights.describe()}); random weights "
            f"give about 10% (at most {CHANCE_LIMIT:.0%} accepted). The grade measures what "
            f"{EPOCHS} epochs of your step() make of a random initialisation, so __init__ must "
            f"not start from trained weights"
        )


# -- the grader's own SGD ----------------------------------------------------------------


def _split_rows() -> dict[str, np.ndarray]:
    """Rows of MNIST's training set in each public split (fixed by SPLIT_SEED)."""
    order = np.random.default_rng(SPLIT_SEED).permutation(N_TRAIN + N_VAL + N_PRACTICE)
    return {
        "train": order[:N_TRAIN],
        "val": order[N_TRAIN : N_TRAIN + N_VAL],
        "test": order[N_TRAIN + N_VAL :],
    }


@functools.lru_cache(maxsize=1)
def _public_train() -> tuple[np.ndarray, np.ndarray]:
    """The training split exactly as the sandbox's mnist/X_train.npy and y_train.npy hold it."""
    splits = load_mnist("mnist")
    rows = _split_rows()["train"]
    return _pixels(splits.X_train)[rows], splits.y_train.astype(np.int64)[rows]


def _epoch_order(seed: int, n: int) -> np.ndarray:
    # Chosen here and sent with each epoch, so the replay never depends on the
    # sandbox's NumPy shuffling the way this process's does.
    return np.random.default_rng(seed).permutation(n)


def _sgd_epoch(
    params: dict[str, np.ndarray],
    x: np.ndarray,
    labels: np.ndarray,
    order: np.ndarray,
    lr: float,
    summed: bool,
    batch_size: int = BATCH_SIZE,
) -> dict[str, np.ndarray]:
    """One epoch of plain SGD on the cross-entropy of the reference MLP, batches taken
    from x in `order`; the loss is averaged over each batch, or summed if `summed`."""
    w1, w2 = params["W1"], params["W2"]
    mlp = MLP((w1.shape[0], w1.shape[1], w2.shape[1]), rng=0)
    mlp.params = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        _, grads = mlp.loss(x[rows], labels[rows])
        config = {"learning_rate": lr * (len(rows) if summed else 1.0)}
        for name, grad in grads.items():
            mlp.params[name], _ = ref_optim.sgd(mlp.params[name], grad, config)
    return mlp.params


def _norm(params: dict[str, np.ndarray], other: dict[str, np.ndarray] | None = None) -> float:
    return math.sqrt(
        sum(float(np.sum((v - (other[k] if other else 0.0)) ** 2)) for k, v in params.items())
    )


@dataclass(frozen=True)
class _Drift:
    """Where an epoch left the arrays, against where the grader's SGD took them."""

    ratio: float  # |after - replayed| / |replayed - before|
    worst: str  # the parameter that accounts for most of the difference
    hint: str
    off_pace: str = ""  # a parameter that travelled much more or less than in the repeat

    @property
    def passed(self) -> bool:
        return self.ratio <= SGD_DRIFT_LIMIT and not self.off_pace

    @staticmethod
    def of(before: dict, after: dict, replayed: dict, layout: _Layout) -> _Drift:
        if not all(np.isfinite(v).all() for v in replayed.values()):
            hint = "the grader's SGD from your weights diverged at this learning rate"
            return _Drift(math.inf, layout.name_of("W1"), hint)
        sgd = _norm(replayed, before)
        off = _norm(after, replayed)
        ratio = off / sgd if sgd > 0 else (0.0 if off == 0 else math.inf)
        worst = layout.name_of(
            max(after, key=lambda k: float(np.sum((after[k] - replayed[k]) ** 2)))
        )
        moved = _norm(after, before)
        along = sum(
            float(np.sum((after[k] - before[k]) * (replayed[k] - before[k]))) for k in after
        )
        hint = ""
        if moved == 0:
            hint = "your weights did not change during the epoch"
        elif sgd > 0 and along > 0.9 * moved * sgd:
            hint = (
                f"they moved along SGD's path but {along / sgd**2:.3g} times as far: check the "
                f"learning rate and the 1/N factor"
            )
        elif sgd > 0 and moved > 3 * sgd:
            hint = (
                f"they moved {moved / sgd:.3g} times as far as SGD moves them in this epoch: a "
                f"gradient or learning rate far too large, or weights put in place by other "
                f"means (loaded, copied, trained elsewhere), which are not accepted"
            )
        elif sgd > 0 and along < 0.5 * moved * sgd:
            hint = (
                "they moved in another direction than SGD: step() does not follow the gradient "
                "of the cross-entropy (the step checks show where)"
            )
        return _Drift(ratio, worst, hint, _off_pace(before, after, replayed, sgd, layout))


def _off_pace(before: dict, after: dict, replayed: dict, sgd: float, layout: _Layout) -> str:
    """The first parameter carrying PACE_SHARE of SGD's change that travelled outside
    PACE_RANGE times as far as in the repeat, said for the student; '' if none did."""
    lo, hi = PACE_RANGE
    for key in after:
        share = float(np.linalg.norm(replayed[key] - before[key]))
        if sgd == 0 or share < PACE_SHARE * sgd:
            continue
        pace = float(np.linalg.norm(after[key] - before[key])) / share
        if not lo <= pace <= hi:
            return (
                f"{layout.name_of(key)} travelled {pace:.3g} times as far as the grader's SGD "
                f"takes it in this epoch (it carries {share / sgd:.0%} of the epoch's change; "
                f"{lo:g} to {hi:g} times accepted): a layer that does not learn, or learns at "
                f"another rate"
            )
    return ""


class _SgdAudit:
    """Repeats each epoch with reference/'s SGD and follows the arrays through training."""

    def __init__(self, lr: float, probe: np.ndarray) -> None:
        self.lr = lr
        self.probe = probe
        self.conventions = [False, True]  # averaged, summed: the one that fits goes first

    def epoch(
        self, epoch: int, weights: _Weights, after: dict[str, np.ndarray], out: np.ndarray
    ) -> _Weights:
        """The weights after `epoch`, read from `after` (the arrays once it ended) by the
        layouts that read `weights` before it; `out`: forward() of the probe images then.
        CheckFailed unless forward() still follows them and they are where SGD leads."""
        layouts = []
        for layout in weights.layouts:
            params = layout.params(after)
            if params is None:
                continue
            if not all(np.isfinite(v).all() for v in params.values()):
                raise CheckFailed(
                    f"after epoch {epoch}/{EPOCHS} the weights ({layout.describe()}) contain "
                    f"NaN or inf: training diverged (a learning rate too large for your loss's "
                    f"scale does that)"
                )
            layouts.append(layout)
        now, _, _ = _best_reading(layouts, after, self.probe, out)
        if now is None:
            raise CheckFailed(
                f"after epoch {epoch}/{EPOCHS}, forward() no longer follows from the arrays that "
                f"were the network's weights before training ({weights.describe()}): they are "
                f"gone, changed shape, or forward() now computes from something else. The "
                f"grader follows the same weights from the random start to the end"
            )
        x, labels = _public_train()
        order = _epoch_order(epoch, x.shape[0])
        reported: _Drift | None = None
        for summed in list(self.conventions):
            with np.errstate(all="ignore"):  # a repeat at a learning rate that diverges
                replayed = _sgd_epoch(weights.params, x, labels, order, self.lr, summed)
            drift = _Drift.of(weights.params, now.params, replayed, now.layouts[0])
            if drift.passed:
                self.conventions.sort(key=lambda s: s != summed)
                return now
            # The convention that fitted before (at first: averaged) explains a failure
            # best; the other one's repeat often diverges and says nothing.
            reported = reported or drift
        assert reported is not None
        return self._fail(epoch, reported, now.layouts[0], now.layouts[0].low_precision(after))

    def _fail(self, epoch: int, drift: _Drift, layout: _Layout, low: bool) -> _Weights:
        head = (
            f"epoch {epoch}/{EPOCHS} did not change the weights the way SGD does. The grader "
            f"repeats every epoch itself from your weights before it ({layout.describe()}; "
            f"the same batches, lr={self.lr:g}, the cross-entropy averaged over each batch, or "
            f"summed)"
        )
        if drift.ratio <= SGD_DRIFT_LIMIT:
            hint = f"; all of them: {drift.hint}" if drift.hint else ""
            raise CheckFailed(f"{head}, and {drift.off_pace}{hint}")
        ratio = "an unbounded" if math.isinf(drift.ratio) else f"{drift.ratio:.3g} times the"
        text = (
            f"{head}, and your weights after it are {ratio} epoch's SGD change away from that "
            f"result (at most {SGD_DRIFT_LIMIT:g} accepted; most of the difference is in "
            f"{drift.worst})"
        )
        if drift.hint:
            text += f": {drift.hint}"
        if low and drift.ratio < 2:
            text += (
                ". float32 arithmetic at a large learning rate can drift this far from the "
                "grader's float64 repeat; keep the parameters in float64"
            )
        raise CheckFailed(text)


# -- the check ---------------------------------------------------------------------------


def _train(net: RemoteObject, ctx, probe: np.ndarray, lr: float, label: str) -> _Weights:
    """Train `net` for EPOCHS epochs in the sandbox, auditing each; the weights at the end."""
    what = f"the untrained {label}"
    weights = _identify(net, probe, what)
    _at_chance(weights, what)
    audit = _SgdAudit(lr, probe)
    for epoch in range(1, EPOCHS + 1):
        ctx.progress(f"training epoch {epoch}/{EPOCHS}")
        try:
            net.train_epoch(
                "mnist/X_train.npy",
                "mnist/y_train.npy",
                batch_size=BATCH_SIZE,
                one_hot=CLASSES,
                # The grader's own batches: the replay below uses the same ones.
                order=_epoch_order(epoch, N_TRAIN),
            )
        except StudentError as err:
            raise StudentError(
                err.status, f"training epoch {epoch}/{EPOCHS}: {err.message}"
            ) from None
        what = f"{label} after epoch {epoch}/{EPOCHS}"
        out = _output(net.forward(probe), probe.shape[0], f"{what}: forward(x)")
        ctx.progress(f"checking epoch {epoch}/{EPOCHS} against the grader's SGD")
        weights = audit.epoch(epoch, weights, _read_arrays(net), out)
    return weights


def _predict(net: RemoteObject, x: np.ndarray) -> np.ndarray:
    chunks = []
    for start in range(0, x.shape[0], PREDICT_CHUNK):
        part = x[start : start + PREDICT_CHUNK]
        out = net.forward(part)
        if not isinstance(out, np.ndarray) or out.shape != (part.shape[0], CLASSES):
            shape = getattr(out, "shape", type(out).__name__)
            raise CheckFailed(
                f"forward(x) for {part.shape[0]} test images returned {shape}, expected "
                f"({part.shape[0]}, {CLASSES}) class probabilities"
            )
        if out.dtype.kind not in "iuf":
            raise CheckFailed(f"forward(x) returned an array of {out.dtype}, expected floats")
        chunks.append(out)
    return np.concatenate(chunks)


def _follows(out: np.ndarray, weights: _Weights, x: np.ndarray) -> np.ndarray:
    """The trusted scores of the weights for x, or CheckFailed where forward()'s `out` is
    not what they give."""
    scores = _scores(weights.params, x)
    far = _disagreement(out, scores) > 1.0
    if far.any():
        other = np.argmax(out, axis=1) != np.argmax(scores, axis=1)
        raise CheckFailed(
            f"forward() does not compute the network's output from its weights: on "
            f"{int(far.sum()):,} of the {x.shape[0]:,} test images it differs from "
            f"softmax(relu(x W1 + b1) W2 + b2) of the network's own arrays "
            f"({weights.describe()}), and it names another class for {int(other.sum()):,} of "
            f"them. The grade is computed from the weights, so forward() must be that network; "
            f"a forward() that looks answers up or asks another classifier cannot pass"
        )
    return scores


@check(points=10, timeout=EPOCH_SECONDS)
def mnist_accuracy(student, rng, ctx):
    """10 epochs of batch-64 SGD, then >= 94% accuracy on the genuine MNIST test set.

    The accuracy is that of the network's weights, computed by the grader; forward()
    must agree with them on every test image. When the grader trains the network, the
    untrained weights must be at chance and every epoch must be the SGD the grader
    repeats itself. A network the file trained at import is checked for the first only:
    that training happened out of the grader's sight.
    """
    x_test, y_test = _genuine_test()
    x_train, _ = _public_train()
    probe = x_train[np.sort(rng.choice(x_train.shape[0], PROBE_IMAGES, replace=False))]
    net = _left_in_global(student)
    if net is not None:
        how = (
            f"the network your file trained when it was loaded (global '{net.label}'); the "
            f"grader did not train it, and checked only that its predictions follow from its "
            f"weights"
        )
        seconds = None
        weights = _identify(net, probe, f"your network '{net.label}'")
    else:
        hidden, lr = _hyperparameters(student)
        label = f"Network({INPUTS}, {hidden}, {CLASSES}, lr={lr:g})"
        net = student.new("Network", INPUTS, hidden, CLASSES, lr=lr)
        how = (
            f"after {EPOCHS} epochs of batch-{BATCH_SIZE} SGD of {label} on the {N_TRAIN:,} "
            f"training images, trained by the grader (each epoch checked against the grader's "
            f"own SGD, from a random start)"
        )
        started = time.monotonic()
        weights = _train(net, ctx, probe, lr, label)
        seconds = time.monotonic() - started
    ctx.progress("predicting the 10,000 test images")
    out = _predict(net, x_test)
    broken = int(np.sum(~np.isfinite(out).all(axis=1)))
    if broken:
        return Verdict(
            False,
            f"forward() returned NaN or inf for {broken} of {len(y_test)} test images (training "
            f"diverged? a learning rate too large for your loss's scale does that)",
        )
    scores = _follows(out, weights, x_test)
    verdict = accuracy(scores, y_test, THRESHOLD, name="MNIST test")
    message = (
        f"{verdict.message} (computed from the weights {weights.describe()}, which forward() "
        f"follows), {how}"
    )
    if not verdict.passed:
        # Time only on failure: a passing report must read the same on every run.
        if seconds is not None:
            message += f"; training took {seconds:.1f} s"
        else:
            message += (
                "; if that global is not your trained network, remove it, and the grader "
                "will train your Network class itself"
            )
    return Verdict(verdict.passed, message)
