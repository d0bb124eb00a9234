"""Report a peak memory of 10**400 KiB with every reply; every answer is correct.

The runner measures its memory with ``peak_kb()``, a global of its own module
(``__main__`` in the sandbox), so the submission replaces it. The figure is
only informational, but a grader that divides it into megabytes overflows a
float and crashes with no report. It must be refused as a malformed reply: the
submission's fault, never the grader's.
"""

import numpy as np

import __main__

__main__.peak_kb = lambda: 10**400


def square(x):
    return x * x


def add(a, b):
    return a + b


def center(x):
    return x - np.mean(x)


def total(x):
    return float(np.sum(x))
