"""One SGD step of a student's network, judged against the numerical gradient.

The network is a black box: its parameters are found by behaviour (float array
attributes whose perturbation moves forward()'s output, any names, any layout:
separate or folded biases, either orientation, any depth), the cross-entropy of
forward()'s probabilities is differentiated numerically on the trusted side, one
step() is taken, and each parameter's change is compared with -lr times that
gradient. Both batch conventions are accepted when every parameter follows the
same one (the loss averaged over the batch, or summed); a failure names the
parameter, the entry and, where it is a constant times the right change, which
constant.

    step_check(student, rng, sizes=(6, 5, 3), n=4, lr=0.1, cls="Network") -> Verdict

``student.new(cls, *sizes, lr=lr)`` must build the network; ``step(x, y)``
receives one-hot ``y`` (N, C), or integer labels (N,) when it refuses one-hot.
"""

from __future__ import annotations

import math

import numpy as np

from grader.checks import CheckFailed, RemoteObject, StudentError, Verdict, compare
from reference import losses as ref_loss


def one_hot(labels: np.ndarray, classes: int) -> np.ndarray:
    return np.eye(classes)[labels]


def probabilities(out: object, n: int, c: int, what: str) -> np.ndarray:
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


class _Probe:
    """A small student Network, a fixed batch, and the loss of its forward() on it."""

    def __init__(
        self,
        student,
        sizes: tuple[int, int, int],
        n: int,
        lr: float,
        rng: np.random.Generator,
        cls: str = "Network",
        int_labels: bool = False,
    ) -> None:
        self.d, self.h, self.c = sizes
        self.n, self.lr = n, lr
        self.label = f"{cls}({self.d}, {self.h}, {self.c}, lr={lr:g})"
        self.net: RemoteObject = student.new(cls, *sizes, lr=lr)
        self.x = rng.standard_normal((n, self.d))
        self.labels = rng.permutation(np.arange(n) % self.c)
        # What step() is given: one-hot rows, or the labels themselves for a step() that
        # takes those (the course's homework does both).
        self.y = self.labels.copy() if int_labels else one_hot(self.labels, self.c)
        self.low_precision = False

    def probabilities(self) -> np.ndarray:
        out = self.net.forward(self.x)
        if isinstance(out, np.ndarray) and out.dtype.kind == "f" and out.dtype.itemsize < 8:
            self.low_precision = True
        return probabilities(out, self.n, self.c, f"{self.label}.forward(x)")

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


def step_check(
    student,
    rng: np.random.Generator,
    sizes: tuple[int, int, int],
    n: int,
    lr: float,
    cls: str = "Network",
) -> Verdict:
    """One step() judged at a random test point; a failure counts once a second point agrees.

    In float32 a finite difference can straddle a ReLU kink too narrowly for the
    kink test to see and fake a wrong entry (about 1 point in 70). A wrong step()
    is wrong at every point, so confirming a failure costs a wrong submission
    nothing and turns that false alarm into about 1 in 5,000. A step() that raises
    on one-hot targets is tried with integer labels.
    """
    try:
        first = _step_at_random_point(student, rng, sizes, n, lr, cls, False)
        int_labels = False
    except StudentError as err:
        if err.status.value != "error":
            raise
        try:
            first = _step_at_random_point(student, rng, sizes, n, lr, cls, True)
        except StudentError:
            raise err from None
        int_labels = True
    if first.passed:
        return first
    second = _step_at_random_point(student, rng, sizes, n, lr, cls, int_labels)
    return second if second.passed else first


def _step_at_random_point(
    student,
    rng: np.random.Generator,
    sizes: tuple[int, int, int],
    n: int,
    lr: float,
    cls: str,
    int_labels: bool,
) -> Verdict:
    probe = _Probe(student, sizes, n, lr, rng, cls, int_labels)
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
