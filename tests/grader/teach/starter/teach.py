"""Mean squares and a ReLU, in NumPy."""

import numpy as np


def mean_square(x: np.ndarray) -> float:
    r"""The mean of the squares of all of x's elements.

    $$L = \frac{1}{N} \sum_{i=1}^{N} x_i^2$$
    """
    raise NotImplementedError


def mean_square_grad(x: np.ndarray) -> np.ndarray:
    r"""The gradient of mean_square at x, shaped like x: $\frac{2 x}{N}$."""
    raise NotImplementedError


def relu(x: np.ndarray) -> np.ndarray:
    """max(x, 0), elementwise."""
    raise NotImplementedError


def relu_grad(x: np.ndarray) -> np.ndarray:
    """1 where x > 0, else 0 (relu'(0) = 0, as the notes define it)."""
    raise NotImplementedError
