"""add() is answered with a reply whose id is an array (a malformed frame); scale() is right.

A malformed reply is the submission's fault: one attempt, one graded report with
add's check crashed, never a platform error that a worker retries.
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


def add(x, y):
    _armed.append(True)
    return x + y


def scale(x, k):
    return x * k
