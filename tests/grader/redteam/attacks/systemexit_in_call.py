"""SystemExit and KeyboardInterrupt from inside calls; total() is correct."""

import sys

import numpy as np


def square(x):
    raise SystemExit(0)


def add(a, b):
    sys.exit("bye")


def center(x):
    raise KeyboardInterrupt


def total(x):
    return float(np.sum(x))
