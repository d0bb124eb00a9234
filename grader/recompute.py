"""A template network's answers, recomputed on the trusted side from its parameters.

Where the grader drives the training of the template's two-layer network (input ->
hidden, ReLU -> output), "verified" means that the answers scored are the ones its
parameters give, computed here, not whatever forward() returns. The parameters are
read as the step check reads them (the network's float array attributes) and matched
by behaviour, not by name: every assignment of arrays to the roles W1, b1, W2, b2 that
the shapes allow (either orientation, row or column biases, a bias folded into a
weight matrix as an extra input of ones, first or last) is tried, and the one whose
answers reproduce forward()'s on sample inputs is the network's layout.

    layout = find_layout(arrays, x, forward_out, hidden, classes)   # or None
    layout.scores(arrays_after_training, x)                         # logits (N, classes)

Training is verified the same way: ``sgd_epoch`` replays one epoch of the grader's
batches as plain SGD on the mean (or summed) cross-entropy from the parameters the
network had when the epoch began, and ``drift`` says how far the network's own
parameters ended from that replay, relative to how far the epoch moved them. A step()
that is SGD ends where the replay does (float32 arithmetic drifts a little); one that
loads weights, learns nothing or learns otherwise does not.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

# forward()'s answers and ours agree when their probabilities differ by less than this:
# a float32 network and this float64 recomputation differ by ~1e-6.
MATCH_ATOL = 1e-3


@dataclass(frozen=True)
class Weight:
    """One weight matrix: its attribute, whether it is stored (out, in), and where a folded
    bias row sits ("" none, "first", "last" in the (in, out) orientation)."""

    name: str
    transposed: bool
    folded: str = ""

    def matrix(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        w = np.asarray(arrays[self.name], dtype=np.float64)
        return w.T if self.transposed else w


@dataclass(frozen=True)
class Layout:
    """Which attributes play W1, b1, W2, b2 (a bias may be absent: folded or not used)."""

    w1: Weight
    b1: str | None
    w2: Weight
    b2: str | None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(n for n in (self.w1.name, self.b1, self.w2.name, self.b2) if n)

    def scores(self, arrays: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
        """The network's output scores (logits) for inputs ``x`` as forward() receives them."""
        hidden = _layer(arrays, self.w1, self.b1, np.asarray(x, dtype=np.float64))
        return _layer(arrays, self.w2, self.b2, np.maximum(hidden, 0.0))


def _layer(arrays: dict[str, np.ndarray], w: Weight, b: str | None, x: np.ndarray) -> np.ndarray:
    matrix = w.matrix(arrays)
    if w.folded:
        ones = np.ones((x.shape[0], 1))
        x = np.hstack([x, ones] if w.folded == "last" else [ones, x])
    out = x @ matrix
    if b is not None:
        out = out + np.asarray(arrays[b], dtype=np.float64).reshape(1, -1)
    return out


def probabilities(out: np.ndarray) -> np.ndarray:
    """forward()'s output as probabilities: as they are, or the softmax of logits or of
    log-probabilities (softmax(log p) = p)."""
    out = np.asarray(out, dtype=np.float64)
    sums = out.sum(axis=1)
    if out.min() >= 0.0 and np.abs(sums - 1.0).max() < 1e-3:
        return out
    shifted = np.exp(out - out.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _weights(arrays: dict[str, np.ndarray], rows: int, cols: int, fold: bool) -> list[Weight]:
    """Arrays that can be a (rows, cols) weight matrix in (in, out) terms."""
    found = []
    for name, a in arrays.items():
        if a.ndim != 2:
            continue
        for transposed in (False, True):
            shape = a.shape[::-1] if transposed else a.shape
            if shape == (rows, cols):
                found.append(Weight(name, transposed))
            elif fold and shape == (rows + 1, cols):
                found += [Weight(name, transposed, "last"), Weight(name, transposed, "first")]
    return found


def _biases(arrays: dict[str, np.ndarray], size: int) -> list[str | None]:
    return [n for n, a in arrays.items() if a.size == size and max(a.shape) == size] + [None]


def find_layout(
    arrays: dict[str, np.ndarray],
    x: np.ndarray,
    forward_out: np.ndarray,
    hidden: int,
    classes: int,
) -> Layout | None:
    """The assignment of ``arrays`` to W1, b1, W2, b2 whose answers for ``x`` (inputs as
    forward() received them) reproduce ``forward_out``; None when none does."""
    if not isinstance(forward_out, np.ndarray) or forward_out.shape != (len(x), classes):
        return None
    if forward_out.dtype.kind != "f" or not np.isfinite(forward_out).all():
        return None
    target = probabilities(forward_out)
    arrays = {k: v for k, v in arrays.items() if v.size and np.isfinite(v).all()}
    first = _weights(arrays, x.shape[1], hidden, fold=True)
    second = _weights(arrays, hidden, classes, fold=True)
    for w1, w2 in itertools.product(first, second):
        if w1.name == w2.name:
            continue
        for b1, b2 in itertools.product(_biases(arrays, hidden), _biases(arrays, classes)):
            if len({w1.name, w2.name, b1, b2} - {None}) < 2 + (b1 is not None) + (b2 is not None):
                continue  # one array in two roles
            if w2.folded and b2 is not None:
                continue
            layout = Layout(w1, b1, w2, b2)
            with np.errstate(all="ignore"):
                ours = probabilities(layout.scores(arrays, x))
            if np.isfinite(ours).all() and np.abs(ours - target).max() < MATCH_ATOL:
                return layout
    return None


def canonical(layout: Layout, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The parameters in (in, out) orientation, float64, by role (W1, b1, W2, b2)."""
    out = {"W1": layout.w1.matrix(arrays), "W2": layout.w2.matrix(arrays)}
    for role, name in (("b1", layout.b1), ("b2", layout.b2)):
        if name is not None:
            out[role] = np.asarray(arrays[name], dtype=np.float64).reshape(-1)
    return out


def _fold(x: np.ndarray, where: str) -> np.ndarray:
    if not where:
        return x
    ones = np.ones((x.shape[0], 1))
    return np.hstack([x, ones] if where == "last" else [ones, x])


def _unfold(g: np.ndarray, where: str) -> np.ndarray:
    return g[:, :-1] if where == "last" else g[:, 1:] if where == "first" else g


def sgd_epoch(
    layout: Layout,
    params: dict[str, np.ndarray],
    x: np.ndarray,
    targets: np.ndarray,
    order: np.ndarray,
    batch_size: int,
    lr: float,
    summed: bool = False,
) -> dict[str, np.ndarray]:
    """``params`` (``canonical``) after one epoch of SGD over ``x`` with one-hot
    ``targets``, batches taken in ``order``: the step the template's step() must take."""
    p = {k: v.copy() for k, v in params.items()}
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        xb = _fold(np.asarray(x[idx], dtype=np.float64), layout.w1.folded)
        z1 = xb @ p["W1"] + p.get("b1", 0.0)
        a1 = _fold(np.maximum(z1, 0.0), layout.w2.folded)
        z2 = a1 @ p["W2"] + p.get("b2", 0.0)
        e = np.exp(z2 - z2.max(axis=1, keepdims=True))
        dz2 = e / e.sum(axis=1, keepdims=True) - targets[idx]
        if not summed:
            dz2 /= len(idx)
        da1 = _unfold(dz2 @ p["W2"].T, layout.w2.folded)
        dz1 = da1 * (z1 > 0)
        grads = {"W2": a1.T @ dz2, "W1": xb.T @ dz1}
        if "b2" in p:
            grads["b2"] = dz2.sum(axis=0)
        if "b1" in p:
            grads["b1"] = dz1.sum(axis=0)
        for role, g in grads.items():
            p[role] -= lr * g
    return p


def drift(
    start: dict[str, np.ndarray], replayed: dict[str, np.ndarray], got: dict[str, np.ndarray]
) -> float:
    """How far ``got`` ended from ``replayed``, relative to how far the replay moved the
    parameters from ``start`` (all roles together): 0 for an exact replay."""
    moved = sum(float(np.sum((replayed[k] - start[k]) ** 2)) for k in start)
    off = sum(float(np.sum((got[k] - replayed[k]) ** 2)) for k in start)
    return float(np.sqrt(off / moved)) if moved > 0 else float("inf")
