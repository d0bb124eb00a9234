"""add() allocates (and touches) memory until something stops it; the rest is correct."""

import numpy as np

hoard = []


def square(x):
    return x * x


def add(a, b):
    for _ in range(1000):
        hoard.append(np.ones(4 * 1024 * 1024))  # 32 MiB, every page written
    return a + b


def center(x):
    return x - np.mean(x)


def total(x):
    return float(np.sum(x))
