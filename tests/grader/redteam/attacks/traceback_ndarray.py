"""square() raises, and the runner's description of the error carries an ndarray traceback.

The submission wraps the runner's ``describe`` (a global of its module,
``__main__`` in the sandbox). Asking whether that traceback was empty raised
inside the grader, and square's checks became platform errors (exit code 2).
It is a malformed reply: square's checks fail with a crash, the others are
graded as usual.
"""

import numpy as np

import __main__

_describe = __main__.describe


def _forged(exc):
    out = _describe(exc)
    out["traceback"] = np.array([1.0, 2.0])
    return out


__main__.describe = _forged


def square(x):
    raise ValueError("no squares today")


def add(a, b):
    return a + b


def center(x):
    return x - np.mean(x)


def total(x):
    return float(np.sum(x))
