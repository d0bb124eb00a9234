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
from reference import losses as ref_loss
from reference.data import load_mnist

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
    order = np.random.default_rng(SPLIT_SEED).permutation(x.shape[0])
    parts = {
        "train": order[:N_TRAIN],
        "val": order[N_TRAIN : N_TRAIN + N_VAL],
        "test": order[N_TRAIN + N_VAL : N_TRAIN + N_VAL + N_PRACTICE],
    }
    out = Path(dest) / "mnist"
    out.mkdir(parents=True, exist_ok=True)
    for name, rows in parts.items():
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
        chunks.append(out)
    return np.concatenate(chunks)


@check(points=10, timeout=EPOCH_SECONDS)
def mnist_accuracy(student, rng, ctx):
    """10 epochs of batch-64 SGD, then >= 94% accuracy on the genuine MNIST test set."""
    x_test, y_test = _genuine_test()
    net = _left_in_global(student)
    if net is not None:
        how = (
            f"the network your file trained when it was loaded (global '{net.label}'); "
            f"the grader did not train it"
        )
        seconds = None
    else:
        hidden, lr = _hyperparameters(student)
        net = student.new("Network", INPUTS, hidden, CLASSES, lr=lr)
        how = (
            f"after {EPOCHS} epochs of batch-{BATCH_SIZE} SGD of Network({INPUTS}, {hidden}, "
            f"{CLASSES}, lr={lr:g}) on the {N_TRAIN:,} training images, trained by the grader"
        )
        started = time.monotonic()
        for epoch in range(1, EPOCHS + 1):
            ctx.progress(f"training epoch {epoch}/{EPOCHS}")
            try:
                net.train_epoch(
                    "mnist/X_train.npy",
                    "mnist/y_train.npy",
                    batch_size=BATCH_SIZE,
                    seed=epoch,
                    one_hot=CLASSES,
                )
            except StudentError as err:
                raise StudentError(
                    err.status, f"training epoch {epoch}/{EPOCHS}: {err.message}"
                ) from None
        seconds = time.monotonic() - started
    ctx.progress("predicting the 10,000 test images")
    scores = _predict(net, x_test)
    broken = int(np.sum(~np.isfinite(scores).all(axis=1)))
    if broken:
        verdict = Verdict(
            False,
            f"forward() returned NaN or inf for {broken} of {len(y_test)} test images (training "
            f"diverged? a learning rate too large for your loss's scale does that)",
        )
    else:
        verdict = accuracy(scores, y_test, THRESHOLD, name="MNIST test")
    message = f"{verdict.message}, {how}"
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
