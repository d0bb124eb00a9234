"""add() spins for ever (CPU-bound); everything else is correct, so only add's point is lost."""

import numpy as np


def square(x):
    return x * x


def add(a, b):
    while True:
        pass


def center(x):
    return x - np.mean(x)


def total(x):
    return float(np.sum(x))
