"""Right numbers in the wrong form: transposed, float16, a ragged list, a string."""

import numpy as np


def square(x):
    return (x * x).T


def add(a, b):
    return (a + b).astype(np.float16)


def center(x):
    c = (x - np.mean(x)).tolist()
    return [c[:2], c[2:]]


def total(x):
    return str(float(np.sum(x)))
