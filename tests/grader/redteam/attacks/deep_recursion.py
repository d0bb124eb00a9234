"""Unbounded recursion: square() within Python's limit, add() past the C stack.

square hits RecursionError (an error). add raises the recursion limit and
recurses through a builtin (map), so every level also takes C stack: the
interpreter's stack overflows and the process dies (a crash). center and total
are correct.
"""

import sys

import numpy as np


def _down(n):
    return _down(n + 1) + 1


def _down_through_c(n):
    return list(map(_down_through_c, [n + 1]))


def square(x):
    return _down(0)


def add(a, b):
    sys.setrecursionlimit(10**8)
    return _down_through_c(0)


def center(x):
    return x - np.mean(x)


def total(x):
    return float(np.sum(x))
