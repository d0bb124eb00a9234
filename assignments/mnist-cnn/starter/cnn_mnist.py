"""Homework 3: train a convolutional network on MNIST with PyTorch to at least 98.5% test
accuracy in 10 epochs.

Two ways to hand it in (both graded the same way, see the assignment's summary):

1. This module form: fill in ``Net`` and ``train`` below. The grader builds
   ``Net()``, checks that it starts untrained (about 10% accuracy, under any
   naming of its outputs), calls ``train(model, X_train, y_train, epochs=10)``
   and scores the model.
2. A script, as in the course: load ``./data/X_train.npy`` and ``./data/y_train.npy``
   (also ``X_val``, ``y_val``, ``X_test``, ``y_test``; ``./mnist/`` holds the same
   files), train under ``if __name__ == "__main__":`` and leave the trained network
   in a global ``model``. tqdm, matplotlib (figures are saved, never shown) and
   ``device = "cuda"`` all work: without a GPU the grader runs CUDA code on the CPU.

The data: X as float32 (N, 784) rows in [0, 1] (reshape them to (N, 1, 28, 28)
images), y as int64 class labels (N,). For grading, the classes are renamed in
secret and anew for each grading: a network that learns from the files it is
given does as well as on plain MNIST. The grader shows your network the test
images as (N, 784) rows or, if it refuses those, as (N, 1, 28, 28) images.
forward() may return logits, probabilities or log-probabilities: the grader
takes the arg-max.
"""

import numpy as np
import torch
from torch import nn

device = "cuda"


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        # TODO: convolution and pooling layers, then fully connected ones

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, 1, 28, 28) or (N, 784) float32. Returns (N, 10) class scores."""
        raise NotImplementedError


def train(model: nn.Module, X_train: np.ndarray, y_train: np.ndarray, epochs: int = 10) -> None:
    """Train ``model`` in place for ``epochs`` epochs on X_train (N, 784), y_train (N,)."""
    raise NotImplementedError
