"""Make the runner stop reading its requests, then wait for a big one.

center() answers correctly, but first swaps the runner's frame reader for one
that never returns. The next request (total's 768 KB array) no longer fits in
the pipe: unless the grader bounds the write itself by the call's time limit,
it blocks forever and grading never ends.
"""

import sys
import time

import numpy as np


def _never(*args, **kwargs):
    while True:
        time.sleep(3600)


def square(x):
    return x * x


def add(a, b):
    return a + b


def center(x):
    sys.modules["codec"].recv = _never
    return x - np.mean(x)


def total(x):
    return float(np.sum(x))
