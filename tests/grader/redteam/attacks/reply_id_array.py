"""Answer square() with a reply whose id is an array; everything else is correct.

square() arms a wrapper around the runner's encoder (the codec module the
runner imported), which rewrites the id of the next reply into a NumPy array.
Comparing that id with an int raised inside the grader, and every check that
called square() became a platform error: exit code 2, and a worker retried the
submission as an infrastructure failure. It is a malformed reply: square's
checks fail with a crash, the others are graded as usual.
"""

import sys

import numpy as np

codec = sys.modules["codec"]
_encode = codec.encode
_armed = []


def _forging_encode(obj, **kwargs):
    if _armed and isinstance(obj, dict) and "id" in obj:
        _armed.clear()
        obj = {**obj, "id": np.array([obj["id"], obj["id"]])}
    return _encode(obj, **kwargs)


codec.encode = _forging_encode


def square(x):
    _armed.append(True)
    return x * x


def add(a, b):
    return a + b


def center(x):
    return x - np.mean(x)


def total(x):
    return float(np.sum(x))
