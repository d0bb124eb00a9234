"""Weight penalties (L1, L2) and early stopping.

The penalties take the *weights* of a model only. As the course notes insist,
biases (and batch-norm shifts and scales) are not regularised: the caller
chooses which arrays to pass and must leave the biases out; nothing here can
tell a bias from a weight.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping, Sequence
from typing import Literal, overload

import numpy as np

Weights = Sequence[np.ndarray] | Mapping[str, np.ndarray]


def _arrays(weights: Weights) -> tuple[list[np.ndarray], list[str] | None]:
    """The weights as float64 arrays, and their keys when the caller passed a mapping."""
    if isinstance(weights, Mapping):
        keys = list(weights)
        return [np.asarray(weights[k], dtype=np.float64) for k in keys], keys
    # An array is itself a sequence (of rows); silently treating its rows as
    # separate weights would hide the caller's mistake.
    if isinstance(weights, np.ndarray | str | bytes):
        raise TypeError("weights must be a sequence or dict of arrays; wrap a single array: [W]")
    return [np.asarray(w, dtype=np.float64) for w in weights], None


def _pack(
    grads: list[np.ndarray], keys: list[str] | None
) -> list[np.ndarray] | dict[str, np.ndarray]:
    return grads if keys is None else dict(zip(keys, grads, strict=True))


def _check_lam(lam: float) -> float:
    if not lam >= 0:
        raise ValueError(f"lam must be >= 0, got {lam}")
    return float(lam)


@overload
def l2_penalty(
    weights: Mapping[str, np.ndarray], lam: float
) -> tuple[float, dict[str, np.ndarray]]: ...
@overload
def l2_penalty(weights: Sequence[np.ndarray], lam: float) -> tuple[float, list[np.ndarray]]: ...
def l2_penalty(
    weights: Weights, lam: float
) -> tuple[float, list[np.ndarray] | dict[str, np.ndarray]]:
    """L2 penalty ``lam / 2 * sum_k sum(W_k ** 2)`` and its gradient ``lam * W_k``.

    weights: a sequence of weight arrays (any shapes) or a dict name -> array;
             weights only, never biases (see the module docstring).
    lam: regularisation strength, >= 0.
    Returns (value as a float, grads) where grads is a list in the same order
    or a dict with the same keys, each a new float64 array shaped like its
    weight. Adding these grads to the data gradient and taking an SGD step with
    learning rate lr is exactly ``torch.optim.SGD(lr=lr, weight_decay=lam)``.
    """
    lam = _check_lam(lam)
    arrays, keys = _arrays(weights)
    value = 0.5 * lam * sum(float(np.sum(w * w)) for w in arrays)
    return value, _pack([lam * w for w in arrays], keys)


@overload
def l1_penalty(
    weights: Mapping[str, np.ndarray], lam: float
) -> tuple[float, dict[str, np.ndarray]]: ...
@overload
def l1_penalty(weights: Sequence[np.ndarray], lam: float) -> tuple[float, list[np.ndarray]]: ...
def l1_penalty(
    weights: Weights, lam: float
) -> tuple[float, list[np.ndarray] | dict[str, np.ndarray]]:
    """L1 penalty ``lam * sum_k sum(|W_k|)`` and its (sub)gradient ``lam * sign(W_k)``.

    weights: a sequence of weight arrays (any shapes) or a dict name -> array;
             weights only, never biases (see the module docstring).
    lam: regularisation strength, >= 0.
    Returns (value as a float, grads) where grads is a list in the same order
    or a dict with the same keys, each a new float64 array shaped like its
    weight. At an entry exactly 0 the subgradient chosen is 0 (as torch's
    autograd of ``abs``).
    """
    lam = _check_lam(lam)
    arrays, keys = _arrays(weights)
    value = lam * sum(float(np.sum(np.abs(w))) for w in arrays)
    return value, _pack([lam * np.sign(w) for w in arrays], keys)


class EarlyStopping:
    """Stop training when a validation metric has not improved for ``patience`` calls.

    patience: a positive integer; ``step`` returns True on the ``patience``-th
              consecutive call without improvement (as Keras and Lightning
              count it: patience=1 stops at the first call that fails to improve).
    min_delta: an improvement must beat the best value by *more* than this
               (>= 0); a smaller gain counts as no improvement.
    mode: 'min' (lower is better, e.g. a loss) or 'max' (e.g. accuracy).

    Attributes a caller may read after each ``step``:
      best: the best metric so far (inf for 'min', -inf for 'max' before any call).
      best_epoch: 0-based index of the call that gave ``best`` (None before any).
      num_bad_epochs: consecutive calls without improvement (0 after an improvement).
      should_stop: True once the patience has run out; it stays True afterwards.
    A NaN metric never counts as an improvement.
    """

    def __init__(
        self, patience: int, min_delta: float = 0.0, mode: Literal["min", "max"] = "min"
    ) -> None:
        if isinstance(patience, bool):
            raise TypeError("patience must be an integer, not a bool")
        patience = operator.index(patience)
        if patience < 1:
            raise ValueError(f"patience must be a positive integer, got {patience}")
        if not min_delta >= 0:
            raise ValueError(f"min_delta must be >= 0, got {min_delta}")
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        self.patience = patience
        self.min_delta = float(min_delta)
        self.mode = mode
        self.best = math.inf if mode == "min" else -math.inf
        self.best_epoch: int | None = None
        self.num_bad_epochs = 0
        self.should_stop = False
        self._calls = 0

    def _improves(self, metric: float) -> bool:
        if self.mode == "min":
            return metric < self.best - self.min_delta
        return metric > self.best + self.min_delta

    def step(self, metric: float) -> bool:
        """Record one epoch's metric; return True when training should stop."""
        metric = float(metric)
        if self._improves(metric):
            self.best = metric
            self.best_epoch = self._calls
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        self._calls += 1
        if self.num_bad_epochs >= self.patience:
            self.should_stop = True
        return self.should_stop
