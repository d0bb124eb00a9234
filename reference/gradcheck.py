"""Numerical gradients by centred differences, and the relative error used to compare them.

These are the tools that let us trust every backward pass in the library: a
gradient agrees with the slope of the function it claims to differentiate.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def rel_error(a: np.ndarray | float, b: np.ndarray | float) -> float:
    """Largest elementwise relative error ``|a - b| / max(1e-8, |a| + |b|)``.

    a, b: arrays of the same shape (or scalars). Returns a Python float.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def eval_numerical_gradient(
    f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """Gradient of a scalar function ``f`` at ``x`` by centred differences.

    f: maps an array shaped like x to a float; it is called with ``x`` itself,
       perturbed one element at a time and restored afterwards.
    x: float64 array of any shape. Returns an array of x's shape.
    """
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + h
        fxph = float(f(x))
        x[ix] = old - h
        fxmh = float(f(x))
        x[ix] = old
        grad[ix] = (fxph - fxmh) / (2 * h)
        it.iternext()
    return grad


def eval_numerical_gradient_array(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, dout: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """Gradient of ``sum(f(x) * dout)`` with respect to ``x``, by centred differences.

    This is the vector-Jacobian product a backward pass computes: f maps x
    (any shape) to an array shaped like dout; the result is shaped like x.
    """
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + h
        pos = np.array(f(x), dtype=np.float64, copy=True)
        x[ix] = old - h
        neg = np.array(f(x), dtype=np.float64, copy=True)
        x[ix] = old
        grad[ix] = np.sum((pos - neg) * dout) / (2 * h)
        it.iternext()
    return grad


def eval_numerical_gradient_elementwise(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, dout: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """``eval_numerical_gradient_array`` for an ``f`` that maps each element on its own.

    Each element's output depends on that element alone, so moving every element
    by +-h at once gives each one's centred difference: ``(f(x + h) - f(x - h)) *
    dout / 2h``. Element by element, the other elements' terms are differences of
    equal numbers, exactly 0, so the two agree to the last bit; this takes 2 calls
    of f where that takes 2 per element. x: any shape; dout and the result: x's.
    """
    x = np.asarray(x, dtype=np.float64)
    pos = np.array(f(x + h), dtype=np.float64, copy=True)
    neg = np.array(f(x - h), dtype=np.float64, copy=True)
    return (pos - neg) * dout / (2 * h)
