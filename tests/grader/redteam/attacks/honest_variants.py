"""Correct answers written differently: float32, a list, big-endian, Fortran order, a view.

Every check must pass: the grader judges values, not how they are stored.
"""

import numpy as np


def square(x):
    return (x * x).astype(np.float32)


def add(a, b):
    return (a + b).tolist()


def center(x):
    out = np.empty(2 * len(x))
    out[::2] = x - x.mean()
    return out[::2].astype(">f8")  # a strided, big-endian view


def total(x):
    return np.asfortranarray(x).sum(dtype=np.float64, keepdims=True).reshape(())
