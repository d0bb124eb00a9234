"""The PyTorch models of the course: an MLP with dropout and a LeNet-style CNN.

These are the reference solutions of the PyTorch training assignments and the
yardstick for their accuracy thresholds. They train in float32 (PyTorch's
default, and what students use); the float64 rule of ``reference`` applies to
the maths the checks compare element by element, not to trained accuracies.
Inputs may be (N, 784), (N, 28, 28) or (N, 1, 28, 28): both models reshape.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from reference.networks import TrainingHistory

__all__ = ["LeNet", "TorchMLP", "evaluate_torch", "train_torch"]


class TorchMLP(nn.Module):
    """Linear -> ReLU -> Dropout for each hidden size, then a final Linear to the class scores.

    input_size: features per example (784 for MNIST); inputs (N, ...) are
    flattened to (N, input_size). hidden: hidden widths, e.g. (512, 256).
    dropout: drop probability after every hidden ReLU (0 disables it).
    forward returns unnormalised scores (N, num_classes).
    """

    def __init__(
        self,
        input_size: int = 784,
        hidden: Sequence[int] = (512, 256),
        num_classes: int = 10,
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = input_size
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, num_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, ...) with input_size elements per row -> scores (N, num_classes)."""
        return self.net(x.reshape(x.shape[0], -1))


class LeNet(nn.Module):
    """LeNet-5 style CNN for 1x28x28 images.

    conv 5x5 (1 -> c1, padding 2) -> [BatchNorm] -> ReLU -> max-pool 2 ->
    conv 5x5 (c1 -> c2) -> [BatchNorm] -> ReLU -> max-pool 2 -> flatten (c2*5*5) ->
    fc 120 -> ReLU -> fc 84 -> ReLU -> fc num_classes.
    channels: (c1, c2); the classic (6, 16) by default (61,706 parameters).
    batch_norm: insert BatchNorm2d after each convolution (off by default: the
    classic network). forward accepts (N, 784), (N, 28, 28) or (N, 1, 28, 28)
    and returns scores (N, num_classes).
    """

    def __init__(
        self,
        num_classes: int = 10,
        channels: tuple[int, int] = (6, 16),
        batch_norm: bool = False,
    ) -> None:
        super().__init__()
        c1, c2 = channels

        def norm(c: int) -> list[nn.Module]:
            return [nn.BatchNorm2d(c)] if batch_norm else []

        self.features = nn.Sequential(
            nn.Conv2d(1, c1, kernel_size=5, padding=2),
            *norm(c1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 28 -> 14
            nn.Conv2d(c1, c2, kernel_size=5),  # 14 -> 10
            *norm(c2),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 10 -> 5
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(c2 * 5 * 5, 120),
            nn.ReLU(),
            nn.Linear(120, 84),
            nn.ReLU(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, 784), (N, 28, 28) or (N, 1, 28, 28) -> scores (N, num_classes)."""
        return self.classifier(self.features(x.reshape(x.shape[0], 1, 28, 28)))


def _as_tensor(X: np.ndarray | torch.Tensor) -> torch.Tensor:
    if isinstance(X, torch.Tensor):
        return X.float()
    # A copy: our datasets are read-only arrays, which torch will not share.
    return torch.tensor(np.asarray(X, dtype=np.float32))


def _as_labels(y: np.ndarray | torch.Tensor) -> torch.Tensor:
    if isinstance(y, torch.Tensor):
        return y.long()
    return torch.tensor(np.asarray(y, dtype=np.int64))


@torch.no_grad()
def evaluate_torch(
    model: nn.Module,
    X: np.ndarray | torch.Tensor,
    y: np.ndarray | torch.Tensor,
    batch_size: int = 1000,
) -> float:
    """Accuracy in [0, 1] of ``model`` (in eval mode, no gradients) on X (N, ...) and labels y (N,).

    The model's training/eval mode is restored afterwards.
    """
    was_training = model.training
    model.eval()
    try:
        X_t = _as_tensor(X)
        y_t = _as_labels(y)
        correct = 0
        for lo in range(0, X_t.shape[0], batch_size):
            pred = model(X_t[lo : lo + batch_size]).argmax(dim=1)
            correct += int((pred == y_t[lo : lo + batch_size]).sum())
        return correct / max(1, X_t.shape[0])
    finally:
        model.train(was_training)


def train_torch(
    model: nn.Module,
    X: np.ndarray | torch.Tensor,
    y: np.ndarray | torch.Tensor,
    *,
    epochs: int,
    batch_size: int = 64,
    lr: float = 1e-3,
    seed: int,
    X_val: np.ndarray | torch.Tensor | None = None,
    y_val: np.ndarray | torch.Tensor | None = None,
    lr_decay: float = 1.0,
) -> TrainingHistory:
    """Train ``model`` in place with Adam on cross-entropy; return its :class:`TrainingHistory`.

    X: (N, ...) float features in the layout the model accepts (converted to
    float32); y: (N,) integer labels. Each epoch shuffles with a generator
    seeded from ``seed``; ``torch.manual_seed(seed)`` is also called, so dropout
    masks repeat too. Same seed, same initial weights, same thread count ->
    same result. With X_val and y_val, validation accuracy is recorded after
    each epoch. ``lr_decay`` multiplies the learning rate after every epoch
    (1.0, the default, keeps Adam's rate constant). The model is left in train
    mode. Thread count is the caller's choice (``torch.set_num_threads``).
    """
    if (X_val is None) != (y_val is None):
        raise ValueError("give both X_val and y_val, or neither")
    if not 0.0 <= lr_decay <= 1.0:
        raise ValueError(f"lr_decay must be in [0, 1], got {lr_decay}")
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    X_t = _as_tensor(X)
    y_t = _as_labels(y)
    n = X_t.shape[0]
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=lr_decay)
    loss_fn = nn.CrossEntropyLoss()
    history = TrainingHistory()
    model.train()
    for _ in range(epochs):
        start = time.perf_counter()
        order = torch.randperm(n, generator=gen)
        losses: list[float] = []
        for lo in range(0, n, batch_size):
            idx = order[lo : lo + batch_size]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(X_t[idx]), y_t[idx])
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        scheduler.step()
        history.epoch_seconds.append(time.perf_counter() - start)
        history.batch_loss.extend(losses)
        history.epoch_loss.append(float(np.mean(losses)) if losses else float("nan"))
        if X_val is not None and y_val is not None:
            history.val_acc.append(evaluate_torch(model, X_val, y_val))
    return history
