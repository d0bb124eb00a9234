"""Weight initialisers, drawing from a ``numpy.random.Generator``.

Weight matrices are laid out as in CS231n: shape ``(fan_in, fan_out)`` so a
layer computes ``x @ W`` for ``x`` of shape ``(N, fan_in)``. PyTorch stores
the transpose, ``(fan_out, fan_in)``; the spreads below are the ones
``torch.nn.init`` gives for the same fans.

Every ``rng`` argument accepts a ``Generator`` (used as is, and advanced) or an
integer seed (a fresh ``np.random.default_rng(seed)``); the same seed gives the
same array. The exact draws are stated in each docstring so that a student who
uses the same generator call with the same seed gets the same numbers.
All results are new float64 arrays.
"""

from __future__ import annotations

import math
import operator

import numpy as np

Shape = int | tuple[int, ...]
Rng = np.random.Generator | int


def _generator(rng: Rng | None) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _fan(value: int, name: str) -> int:
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an integer, not a bool")
    value = operator.index(value)
    if value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value}")
    return value


def _fans(fan_in: int, fan_out: int) -> tuple[int, int]:
    return _fan(fan_in, "fan_in"), _fan(fan_out, "fan_out")


def constant(shape: Shape, value: float) -> np.ndarray:
    """An array of the given shape filled with ``value`` (e.g. zeros for biases)."""
    return np.full(shape, value, dtype=np.float64)


def identity(n: int | tuple[int, int]) -> np.ndarray:
    """The identity matrix: ``n`` gives shape (n, n); ``(rows, cols)`` gives ones
    on the main diagonal of a rectangular matrix (as ``torch.nn.init.eye_``).
    """
    rows, cols = n if isinstance(n, tuple | list) else (n, n)
    return np.eye(_fan(rows, "rows"), _fan(cols, "cols"), dtype=np.float64)


def normal(shape: Shape, mean: float = 0.0, std: float = 1.0, rng: Rng | None = None) -> np.ndarray:
    """Samples of N(mean, std^2) of the given shape: ``mean + std * rng.standard_normal(shape)``.

    ``rng=None`` draws from a fresh, unseeded generator (not reproducible).
    """
    if not std >= 0:
        raise ValueError(f"std must be >= 0, got {std}")
    return mean + std * _generator(rng).standard_normal(shape)


def uniform(
    shape: Shape, low: float = 0.0, high: float = 1.0, rng: Rng | None = None
) -> np.ndarray:
    """Samples of U[low, high) of the given shape: ``rng.uniform(low, high, shape)``.

    ``rng=None`` draws from a fresh, unseeded generator (not reproducible).
    """
    if not high >= low:
        raise ValueError(f"need low <= high, got low={low}, high={high}")
    return _generator(rng).uniform(low, high, shape)


def xavier_normal(fan_in: int, fan_out: int, rng: Rng) -> np.ndarray:
    """Glorot/Xavier normal weights of shape (fan_in, fan_out).

    Zero mean, std ``sqrt(2 / (fan_in + fan_out))``; drawn as
    ``std * rng.standard_normal((fan_in, fan_out))``. Same spread as
    ``torch.nn.init.xavier_normal_`` on a (fan_out, fan_in) tensor.
    """
    fan_in, fan_out = _fans(fan_in, fan_out)
    std = math.sqrt(2.0 / (fan_in + fan_out))
    return normal((fan_in, fan_out), 0.0, std, rng)


def xavier_uniform(fan_in: int, fan_out: int, rng: Rng) -> np.ndarray:
    """Glorot/Xavier uniform weights of shape (fan_in, fan_out).

    U[-a, a) with ``a = sqrt(6 / (fan_in + fan_out))`` (std ``a / sqrt(3)``, the
    Xavier normal std); drawn as ``rng.uniform(-a, a, (fan_in, fan_out))``.
    Same bound as ``torch.nn.init.xavier_uniform_`` on a (fan_out, fan_in) tensor.
    """
    fan_in, fan_out = _fans(fan_in, fan_out)
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    return uniform((fan_in, fan_out), -bound, bound, rng)


def he_normal(fan_in: int, fan_out: int, rng: Rng) -> np.ndarray:
    """He/Kaiming normal weights for ReLU layers, shape (fan_in, fan_out).

    Zero mean, std ``sqrt(2 / fan_in)``; fan_out only sets the shape. Drawn as
    ``std * rng.standard_normal((fan_in, fan_out))``. Same spread as
    ``torch.nn.init.kaiming_normal_(mode='fan_in', nonlinearity='relu')`` on a
    (fan_out, fan_in) tensor.
    """
    fan_in, fan_out = _fans(fan_in, fan_out)
    std = math.sqrt(2.0 / fan_in)
    return normal((fan_in, fan_out), 0.0, std, rng)


def he_uniform(fan_in: int, fan_out: int, rng: Rng) -> np.ndarray:
    """He/Kaiming uniform weights for ReLU layers, shape (fan_in, fan_out).

    U[-a, a) with ``a = sqrt(6 / fan_in)`` (std ``sqrt(2 / fan_in)``); fan_out
    only sets the shape. Drawn as ``rng.uniform(-a, a, (fan_in, fan_out))``.
    Same bound as ``torch.nn.init.kaiming_uniform_(mode='fan_in',
    nonlinearity='relu')`` on a (fan_out, fan_in) tensor.
    """
    fan_in, fan_out = _fans(fan_in, fan_out)
    bound = math.sqrt(6.0 / fan_in)
    return uniform((fan_in, fan_out), -bound, bound, rng)
