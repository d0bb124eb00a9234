"""Smuggle code across the boundary in objects a pickle-based grader would run.

Every return value carries a __reduce__ that would create a file on the host
(@@HOST_DIR@@) if unpickled there: an object array, a bare object, a list
holding one, a dict whose values are such objects. The codec refuses them all.
"""

import os

import numpy as np

PROOF = "@@HOST_DIR@@/dlgrade-redteam-reduce-ran"


class Payload:
    def __reduce__(self):
        return (os.system, (f"touch {PROOF}",))


def square(x):
    out = np.empty(x.shape, dtype=object)
    out[...] = Payload()
    return out


def add(a, b):
    return Payload()


def center(x):
    return [Payload() for _ in x]


def total(x):
    return {"value": Payload()}
