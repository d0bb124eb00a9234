"""Print megabytes: at import, and inside square() before answering correctly."""

import sys

import numpy as np

LINE = "flood " * 170 + "\n"  # about 1 KiB
for _ in range(2048):
    sys.stdout.write(LINE)


def square(x):
    sys.stderr.write(LINE * 4096)
    return x * x


def add(a, b):
    return a + b


def center(x):
    return x - np.mean(x)


def total(x):
    return float(np.sum(x))
