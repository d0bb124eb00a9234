"""The instructor's solution of the red-team fixture (dlgrade-redteam-secret-solution-27d9e3)."""

import numpy as np


def square(x):
    return x * x


def add(a, b):
    return a + b


def center(x):
    return x - np.mean(x)


def total(x):
    return float(np.sum(x))
