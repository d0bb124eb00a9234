"""Loss functions: each returns ``(loss, grad)`` for one batch.

``loss`` is a Python float; ``grad`` is d loss / d (first argument), a new
float64 array shaped like the first argument. Every loss is reduced by the
mean, as torch.nn's losses are by default: over all elements for the
elementwise losses, over the N samples for the classification losses.

Inputs are validated and a problem raises ``ValueError`` with a message that
says what was wrong: shapes that differ (no broadcasting, unlike torch, which
only warns), empty batches, labels that are not integers or lie outside
[0, C) (torch's ``ignore_index=-100`` is not supported), probabilities outside
[0, 1], negative ``beta`` or ``gamma``.

Logits may be of any finite size (the tests use 1e4): the classification and
logits losses never take exp of a positive number.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from reference.activations import sigmoid

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

# torch.nn.BCELoss clamps each log term at this value so that a probability
# of exactly 0 or 1 still gives a finite loss.
BCE_LOG_FLOOR = -100.0


def _elementwise_pair(
    first: npt.ArrayLike, second: npt.ArrayLike, names: tuple[str, str]
) -> tuple[FloatArray, FloatArray]:
    """float64 copies of two arrays that must share a non-empty shape."""
    a = np.array(first, dtype=np.float64)
    b = np.array(second, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(
            f"{names[0]} has shape {a.shape} but {names[1]} has shape {b.shape}; they must be equal"
        )
    if a.size == 0:
        raise ValueError(f"{names[0]} is empty; a mean over no elements is undefined")
    return a, b


def _scores_and_labels(
    scores: npt.ArrayLike, labels: npt.ArrayLike, name: str
) -> tuple[FloatArray, IntArray]:
    """Check a (N, C) score array against N integer labels in [0, C)."""
    s = np.array(scores, dtype=np.float64)
    if s.ndim != 2 or s.shape[0] == 0 or s.shape[1] == 0:
        raise ValueError(f"{name} must have shape (N, C) with N, C >= 1; got shape {s.shape}")
    n, c = s.shape
    y = np.asarray(labels)
    if y.shape != (n,):
        raise ValueError(f"labels must have shape ({n},) to match {name} {s.shape}; got {y.shape}")
    if y.dtype.kind not in "iu":
        raise ValueError(f"labels must be integer class indices; got dtype {y.dtype}")
    lo, hi = int(y.min()), int(y.max())
    if lo < 0 or hi >= c:
        raise ValueError(f"labels must lie in [0, {c}) for {c} classes; got values in [{lo}, {hi}]")
    return s, y.astype(np.intp)


class _LabelSoftmax(NamedTuple):
    """Softmax of (N, C) logits seen from each sample's label.

    probs: (N, C) softmax. p_t, q, log_pt: (N,) p_t = probs[i, label_i], its
    complement q = 1 - p_t and log p_t. q is summed from the other classes and
    log p_t taken as log1p(-q) when p_t > 1/2, so both keep full relative
    accuracy when p_t is within 1e-16 of 1, where 1 - p_t and log_softmax
    would round to 0.
    """

    probs: FloatArray
    p_t: FloatArray
    q: FloatArray
    log_pt: FloatArray


def _label_softmax(logits: FloatArray, labels: IntArray) -> _LabelSoftmax:
    """_LabelSoftmax of checked (N, C) logits; exp is never taken of a positive number."""
    rows = np.arange(logits.shape[0])
    with np.errstate(under="ignore"):
        shifted = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        sums = e.sum(axis=1)
        others = e.copy()
        others[rows, labels] = 0.0
        q = others.sum(axis=1) / sums
        # np.where evaluates both branches: clip so log1p never sees -1.
        log_pt = np.where(
            q < 0.5, np.log1p(-np.minimum(q, 0.5)), shifted[rows, labels] - np.log(sums)
        )
        probs = e / sums[:, None]
    return _LabelSoftmax(probs, probs[rows, labels], q, log_pt)


def _probs_minus_onehot(probs: FloatArray, labels: IntArray, q: FloatArray) -> FloatArray:
    """probs - onehot(labels), with the label entries set to -q rather than p_t - 1."""
    out = probs.copy()
    out[np.arange(probs.shape[0]), labels] = -q
    return out


def mse_loss(pred: npt.ArrayLike, target: npt.ArrayLike) -> tuple[float, FloatArray]:
    """Mean squared error mean((pred - target)^2), as torch.nn.MSELoss.

    pred, target: same shape, any. Returns (loss, dloss/dpred shaped like pred).
    """
    p, t = _elementwise_pair(pred, target, ("pred", "target"))
    diff = p - t
    return float(np.mean(diff * diff)), 2.0 * diff / diff.size


def mae_loss(pred: npt.ArrayLike, target: npt.ArrayLike) -> tuple[float, FloatArray]:
    """Mean absolute error mean(|pred - target|), as torch.nn.L1Loss.

    pred, target: same shape, any. Returns (loss, grad shaped like pred); the
    grad is sign(pred - target) / size with sign(0) = 0, as torch's.
    """
    p, t = _elementwise_pair(pred, target, ("pred", "target"))
    diff = p - t
    return float(np.mean(np.abs(diff))), np.sign(diff) / diff.size


def smooth_l1_loss(
    pred: npt.ArrayLike, target: npt.ArrayLike, beta: float = 1.0
) -> tuple[float, FloatArray]:
    """Smooth L1 (Huber-like) loss with torch.nn.SmoothL1Loss semantics.

    Per element, with d = pred - target: 0.5 d^2 / beta where |d| < beta, else
    |d| - 0.5 beta; beta = 0 is exactly the L1 loss. pred, target: same shape.
    Returns (mean loss, grad shaped like pred); the per-element grad is
    d / beta inside the band and sign(d) outside (continuous at |d| = beta;
    sign(0) = 0 when beta = 0). Raises ValueError for beta < 0.
    """
    if not beta >= 0.0:
        raise ValueError(f"beta must be >= 0; got {beta}")
    p, t = _elementwise_pair(pred, target, ("pred", "target"))
    diff = p - t
    abs_diff = np.abs(diff)
    if beta == 0.0:
        return float(np.mean(abs_diff)), np.sign(diff) / diff.size
    inside = abs_diff < beta
    # Square only the clipped difference so that huge d outside the band,
    # which np.where still evaluates, cannot overflow.
    d_in = np.clip(diff, -beta, beta)
    per_elem = np.where(inside, 0.5 * d_in * d_in / beta, abs_diff - 0.5 * beta)
    grad = np.where(inside, d_in / beta, np.sign(diff))
    return float(np.mean(per_elem)), grad / diff.size


def bce_loss(prob: npt.ArrayLike, target: npt.ArrayLike) -> tuple[float, FloatArray]:
    """Binary cross-entropy on probabilities, as torch.nn.BCELoss.

    Per element: -(t max(log p, -100) + (1 - t) max(log(1 - p), -100)).
    prob: any shape, values in [0, 1] (else ValueError); target: same shape,
    usually 0/1 but soft targets are allowed. Returns (mean loss, grad shaped
    like prob).

    The grad is the exact derivative of that clamped loss: a log term whose
    clamp is active (p < e^-100 for log p, 1 - p < e^-100 for log(1 - p))
    contributes 0. So at p = 0 the grad is (1 - t) / size and at p = 1 it is
    -t / size, always finite. This equals torch's (p - t) / max(p (1 - p), 1e-12)
    wherever p (1 - p) >= 1e-12; closer to 0 or 1 torch's 1e-12 floor gives a
    different (and very large) value.
    """
    p, t = _elementwise_pair(prob, target, ("prob", "target"))
    if not np.all((p >= 0.0) & (p <= 1.0)):
        raise ValueError("prob must lie in [0, 1]; use bce_with_logits_loss for logits")
    with np.errstate(divide="ignore"):
        log_p = np.log(p)
        log_not_p = np.log1p(-p)
    live_p = log_p > BCE_LOG_FLOOR
    live_not_p = log_not_p > BCE_LOG_FLOOR
    per_elem = -(
        t * np.maximum(log_p, BCE_LOG_FLOOR) + (1.0 - t) * np.maximum(log_not_p, BCE_LOG_FLOOR)
    )
    # Substitute 1 in the denominators of clamped terms: they are discarded.
    d_log_p = np.where(live_p, t / np.where(live_p, p, 1.0), 0.0)
    d_log_not_p = np.where(live_not_p, (1.0 - t) / np.where(live_not_p, 1.0 - p, 1.0), 0.0)
    return float(np.mean(per_elem)), (d_log_not_p - d_log_p) / p.size


def bce_with_logits_loss(logits: npt.ArrayLike, target: npt.ArrayLike) -> tuple[float, FloatArray]:
    """Binary cross-entropy on logits, as torch.nn.BCEWithLogitsLoss.

    Per element: softplus(z) - t z, computed as max(z, 0) - t z + log1p(exp(-|z|)).
    logits, target: same shape. Returns (mean loss, grad shaped like logits),
    the grad being (sigmoid(z) - t) / size. Stable for logits of any finite size.
    """
    z, t = _elementwise_pair(logits, target, ("logits", "target"))
    with np.errstate(under="ignore"):
        per_elem = np.maximum(z, 0.0) - t * z + np.log1p(np.exp(-np.abs(z)))
    return float(np.mean(per_elem)), (sigmoid(z) - t) / z.size


def cross_entropy_loss(logits: npt.ArrayLike, labels: npt.ArrayLike) -> tuple[float, FloatArray]:
    """Softmax cross-entropy, as torch.nn.CrossEntropyLoss with class-index labels.

    logits: (N, C) finite scores; labels: (N,) integers in [0, C).
    Returns (mean over N of -log softmax(logits)[label], grad of shape (N, C));
    the grad is (softmax(logits) - onehot(labels)) / N, its label entries
    computed as -(1 - p_t) from the other classes so that they keep relative
    accuracy for confident predictions (torch rounds them to 0 there).
    """
    z, y = _scores_and_labels(logits, labels, "logits")
    sm = _label_softmax(z, y)
    return float(-np.mean(sm.log_pt)), _probs_minus_onehot(sm.probs, y, sm.q) / z.shape[0]


def nll_loss(log_probs: npt.ArrayLike, labels: npt.ArrayLike) -> tuple[float, FloatArray]:
    """Negative log-likelihood, as torch.nn.NLLLoss: mean over N of -log_probs[i, label_i].

    log_probs: (N, C), normally log_softmax output (not checked, as in torch);
    labels: (N,) integers in [0, C). Returns (loss, grad of shape (N, C)), the
    grad being -1/N at each sample's label and 0 elsewhere.
    """
    lp, y = _scores_and_labels(log_probs, labels, "log_probs")
    n = lp.shape[0]
    rows = np.arange(n)
    grad = np.zeros_like(lp)
    grad[rows, y] = -1.0 / n
    return float(-np.mean(lp[rows, y])), grad


def focal_loss(
    logits: npt.ArrayLike, labels: npt.ArrayLike, gamma: float = 2.0
) -> tuple[float, FloatArray]:
    """Multi-class focal loss: mean over N of -(1 - p_t)^gamma log p_t.

    p_t = softmax(logits)[i, label_i]. logits: (N, C) finite; labels: (N,)
    integers in [0, C); gamma >= 0 (gamma = 0 is cross-entropy). Returns
    (loss, grad of shape (N, C)). The grad is finite for every gamma >= 0 and
    every finite logits, including p_t = 1 with gamma < 1 where the factor
    (1 - p_t)^(gamma - 1) alone would be infinite (its product has limit 0).
    """
    if not (np.isfinite(gamma) and gamma >= 0.0):
        raise ValueError(f"gamma must be finite and >= 0; got {gamma}")
    z, y = _scores_and_labels(logits, labels, "logits")
    sm = _label_softmax(z, y)
    with np.errstate(under="ignore"):
        weight = sm.q**gamma  # 0**0 == 1, so gamma = 0 is plain cross-entropy
        # d/dp_t [-q^g log p_t] times dp_t/dz_j = p_t (onehot_j - p_j) gives
        # (g q^(g-1) p_t log p_t - q^g) (onehot_j - p_j). Write q^(g-1) log p_t as
        # q^g (log p_t / q): the ratio tends to -1 as q -> 0 and never overflows.
        safe_q = np.where(sm.q > 0.0, sm.q, 1.0)
        ratio = np.where(sm.q > 0.0, sm.log_pt / safe_q, -1.0)
        coef = weight - gamma * weight * sm.p_t * ratio
        grad = coef[:, None] * _probs_minus_onehot(sm.probs, y, sm.q) / z.shape[0]
    return float(np.mean(-weight * sm.log_pt)), grad
