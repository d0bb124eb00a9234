"""Whole networks: a NumPy multi-layer perceptron, and (lazily) the PyTorch models.

The NumPy :class:`MLP` is self-contained: affine layers, a hidden nonlinearity
and softmax cross-entropy, forward and backward, in float64. It is the model
the NumPy homework builds and the one its checks compare against.

``TorchMLP``, ``LeNet``, ``train_torch`` and ``evaluate_torch`` live in
:mod:`reference.networks.torch_models` and are re-exported here on first
access, so ``import reference.networks`` does not import torch (which costs
over a second) unless a caller asks for a PyTorch model.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    # Redundant aliases mark these as re-exports for type checkers and linters.
    from reference.networks.torch_models import LeNet as LeNet
    from reference.networks.torch_models import TorchMLP as TorchMLP
    from reference.networks.torch_models import evaluate_torch as evaluate_torch
    from reference.networks.torch_models import train_torch as train_torch

__all__ = ["ACTIVATIONS", "MLP", "TrainingHistory", "accuracy", "train_mlp"]

_TORCH_EXPORTS = frozenset({"TorchMLP", "LeNet", "train_torch", "evaluate_torch"})


def __getattr__(name: str) -> Any:
    # PEP 562: torch is imported only when one of its models is first asked for.
    if name in _TORCH_EXPORTS:
        from reference.networks import torch_models

        return getattr(torch_models, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _TORCH_EXPORTS)


# ---------------------------------------------------------------------------
# Hidden nonlinearities: value and derivative, the derivative written in terms
# of what the forward pass already holds (pre-activation a, output h).


def _relu(a: np.ndarray) -> np.ndarray:
    return np.maximum(a, 0.0)


def _relu_grad(a: np.ndarray, h: np.ndarray) -> np.ndarray:
    # The subgradient at exactly 0 is taken as 0, as PyTorch does.
    return (a > 0).astype(a.dtype)


def _sigmoid(a: np.ndarray) -> np.ndarray:
    # Written through tanh so that large |a| never overflows exp.
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def _sigmoid_grad(a: np.ndarray, h: np.ndarray) -> np.ndarray:
    return h * (1.0 - h)


def _tanh_grad(a: np.ndarray, h: np.ndarray) -> np.ndarray:
    return 1.0 - h * h


_Activation = tuple[
    Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray, np.ndarray], np.ndarray]
]

#: name -> (function, derivative(pre_activation, output)) for the hidden layers.
ACTIVATIONS: dict[str, _Activation] = {
    "relu": (_relu, _relu_grad),
    "sigmoid": (_sigmoid, _sigmoid_grad),
    "tanh": (np.tanh, _tanh_grad),
}


def _softmax_cross_entropy(scores: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean softmax cross-entropy of scores (N, C) for labels y (N,); returns (loss, dscores)."""
    n = scores.shape[0]
    shifted = scores - scores.max(axis=1, keepdims=True)  # exp never overflows
    log_z = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    log_probs = shifted - log_z
    loss = -float(log_probs[np.arange(n), y].mean())
    dscores = np.exp(log_probs)
    dscores[np.arange(n), y] -= 1.0
    dscores /= n
    return loss, dscores


def accuracy(predictions: np.ndarray, y: np.ndarray) -> float:
    """Fraction of predictions (N,) equal to labels y (N,), as a Python float in [0, 1]."""
    return float(np.mean(np.asarray(predictions) == np.asarray(y)))


# ---------------------------------------------------------------------------
# The model


class MLP:
    """A fully connected network: affine -> activation, repeated, then a final affine.

    layer_sizes: (D, H1, ..., Hk, C): input size, hidden sizes, number of
        classes; at least two entries (two means a linear softmax classifier).
    activation: 'relu', 'sigmoid' or 'tanh', used after every hidden affine
        layer (never after the last one: its outputs are the class scores).
    weight_init: 'he' (normal, std sqrt(2 / fan_in)), 'xavier' (Glorot normal,
        std sqrt(2 / (fan_in + fan_out))) or a float, the std of a normal.
        Biases start at zero.
    reg: L2 strength; the loss adds 0.5 * reg * sum of squared weights (biases
        excluded), so the gradient gains reg * W, the convention of PyTorch's
        ``weight_decay``.
    rng: a numpy Generator or an int seed; None means ``default_rng(0)`` so that
        construction is always reproducible.

    ``params`` maps 'W1', 'b1', ..., 'WL', 'bL' to float64 arrays; Wi has shape
    (layer_sizes[i-1], layer_sizes[i]) and bi shape (layer_sizes[i],). Callers
    may replace or update these arrays in place (the optimiser does).
    """

    def __init__(
        self,
        layer_sizes: Sequence[int],
        activation: str = "relu",
        weight_init: str | float = "he",
        reg: float = 0.0,
        rng: np.random.Generator | int | None = None,
    ) -> None:
        sizes = [int(s) for s in layer_sizes]
        if len(sizes) < 2 or any(s <= 0 for s in sizes):
            raise ValueError(f"layer_sizes needs >= 2 positive sizes, got {list(layer_sizes)}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        if reg < 0:
            raise ValueError(f"reg must be >= 0, got {reg}")
        if not isinstance(rng, np.random.Generator):
            rng = np.random.default_rng(0 if rng is None else rng)
        self.layer_sizes: tuple[int, ...] = tuple(sizes)
        self.activation = activation
        self.reg = float(reg)
        self.num_layers = len(sizes) - 1
        self.params: dict[str, np.ndarray] = {}
        for i, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes), start=1):
            std = _init_std(weight_init, fan_in, fan_out)
            self.params[f"W{i}"] = std * rng.standard_normal((fan_in, fan_out))
            self.params[f"b{i}"] = np.zeros(fan_out)

    def loss(
        self, X: np.ndarray, y: np.ndarray | None = None
    ) -> np.ndarray | tuple[float, dict[str, np.ndarray]]:
        """Class scores, or the loss and its gradients.

        X: (N, D) features, or (N, d1, d2, ...) with d1*d2*... = D (flattened);
           converted to float64.
        y: (N,) integer labels in [0, C), or None.
        Returns scores (N, C) float64 when y is None; otherwise (loss, grads)
        where loss is the mean softmax cross-entropy over the batch plus the L2
        term, and grads maps every key of ``params`` to an array of its shape.
        """
        act, act_grad = ACTIVATIONS[self.activation]
        h = np.asarray(X, dtype=np.float64).reshape(X.shape[0], -1)
        if h.shape[1] != self.layer_sizes[0]:
            raise ValueError(
                f"X has {h.shape[1]} features, the model expects {self.layer_sizes[0]}"
            )
        caches: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (input, pre-act, output)
        for i in range(1, self.num_layers):
            a = h @ self.params[f"W{i}"] + self.params[f"b{i}"]
            out = act(a)
            caches.append((h, a, out))
            h = out
        L = self.num_layers
        scores = h @ self.params[f"W{L}"] + self.params[f"b{L}"]
        if y is None:
            return scores

        y = np.asarray(y)
        data_loss, dscores = _softmax_cross_entropy(scores, y.astype(np.intp))
        weights = [self.params[f"W{i}"] for i in range(1, L + 1)]
        reg_loss = 0.5 * self.reg * sum(float(np.sum(W * W)) for W in weights)

        grads: dict[str, np.ndarray] = {}
        grads[f"W{L}"] = h.T @ dscores + self.reg * self.params[f"W{L}"]
        grads[f"b{L}"] = dscores.sum(axis=0)
        dh = dscores @ self.params[f"W{L}"].T
        for i in range(L - 1, 0, -1):
            h_in, a, out = caches[i - 1]
            da = dh * act_grad(a, out)
            grads[f"W{i}"] = h_in.T @ da + self.reg * self.params[f"W{i}"]
            grads[f"b{i}"] = da.sum(axis=0)
            if i > 1:  # the input needs no gradient
                dh = da @ self.params[f"W{i}"].T
        return data_loss + reg_loss, grads

    def predict(self, X: np.ndarray, batch_size: int = 4096) -> np.ndarray:
        """Predicted class (argmax of the scores) for X (N, D); returns (N,) int64.

        Works through X in chunks of ``batch_size`` rows to bound memory.
        """
        n = X.shape[0]
        out = np.empty(n, dtype=np.int64)
        for start in range(0, n, batch_size):
            scores = self.loss(X[start : start + batch_size])
            out[start : start + batch_size] = np.argmax(scores, axis=1)
        return out


def _init_std(weight_init: str | float, fan_in: int, fan_out: int) -> float:
    if isinstance(weight_init, str):
        if weight_init == "he":
            return float(np.sqrt(2.0 / fan_in))
        if weight_init == "xavier":
            return float(np.sqrt(2.0 / (fan_in + fan_out)))
        raise ValueError(f"weight_init must be 'he', 'xavier' or a float, got {weight_init!r}")
    std = float(weight_init)
    if not std > 0:
        raise ValueError(f"weight_init std must be > 0, got {weight_init}")
    return std


# ---------------------------------------------------------------------------
# Training


@dataclass
class TrainingHistory:
    """What a training run recorded; shared by the NumPy and PyTorch trainers.

    batch_loss: the loss of every mini-batch, in order (with the L2 term).
    epoch_loss: per epoch, the mean of that epoch's batch losses.
    val_acc: per epoch, accuracy on the validation set (empty when none given).
    epoch_seconds: per epoch, wall time of training (validation excluded).
    """

    batch_loss: list[float] = field(default_factory=list)
    epoch_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)

    @property
    def epochs_run(self) -> int:
        """How many epochs completed."""
        return len(self.epoch_loss)


def train_mlp(
    model: MLP,
    X: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int,
    batch_size: int = 64,
    learning_rate: float = 0.1,
    rng: np.random.Generator | int | None = None,
    X_val: np.ndarray | None = None,
    y_val: np.ndarray | None = None,
    on_epoch: Callable[[int, TrainingHistory], bool | None] | None = None,
) -> TrainingHistory:
    """Train ``model`` in place with plain mini-batch SGD on softmax cross-entropy.

    X: (N, D) float features (scale images first, e.g. ``reference.data.images_to_float``);
    y: (N,) integer labels. Each epoch visits every row once in an order drawn
    from ``rng`` (a Generator or int seed; None means ``default_rng(0)``), in
    batches of ``batch_size`` (the last may be smaller), applying
    ``W -= learning_rate * dW`` to every parameter. With X_val and y_val the
    validation accuracy is recorded after each epoch. ``on_epoch(epoch, history)``
    is called after each epoch (epoch counts from 1); returning True stops
    training early. The same inputs and seed give the same weights.
    Returns the :class:`TrainingHistory`.
    """
    if epochs < 0 or batch_size <= 0:
        raise ValueError(f"need epochs >= 0 and batch_size > 0, got {epochs}, {batch_size}")
    if (X_val is None) != (y_val is None):
        raise ValueError("give both X_val and y_val, or neither")
    if not isinstance(rng, np.random.Generator):
        rng = np.random.default_rng(0 if rng is None else rng)
    X = np.asarray(X, dtype=np.float64)
    X = X.reshape(X.shape[0], -1)
    y = np.asarray(y).astype(np.intp)
    n = X.shape[0]
    history = TrainingHistory()
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        order = rng.permutation(n)
        losses = []
        for lo in range(0, n, batch_size):
            idx = order[lo : lo + batch_size]
            loss, grads = model.loss(X[idx], y[idx])
            for key, grad in grads.items():
                model.params[key] -= learning_rate * grad
            losses.append(loss)
        history.epoch_seconds.append(time.perf_counter() - start)
        history.batch_loss.extend(losses)
        history.epoch_loss.append(float(np.mean(losses)) if losses else float("nan"))
        if X_val is not None and y_val is not None:
            history.val_acc.append(accuracy(model.predict(X_val), y_val))
        if on_epoch is not None and on_epoch(epoch, history):
            break
    return history
