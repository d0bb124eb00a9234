"""Checks of the red-team fixture: small enough to read at a glance.

The secret below must never be seen by a submission: the red-team attacks
search the sandbox for it, and the tests assert it never reaches a report.
"""

import numpy as np

from grader.checks import check, compare

SECRET = "dlgrade-redteam-secret-checks-8c41f0"
RTOL, ATOL = 1e-12, 1e-12
# 96 000 float64 values (768 KB): far more than a pipe buffer (64 KB), so sending
# it blocks unless the sandbox is reading.
BIG_SHAPE = (300, 320)


@check(points=1)
def square(student, rng):
    """square(x) on a (4, 3) array."""
    x = rng.standard_normal((4, 3))
    return compare(student.square(x), x * x, rtol=RTOL, atol=ATOL, name="square(x)")


@check(points=1)
def add(student, rng):
    """add(a, b) on two (3, 2) arrays."""
    a = rng.standard_normal((3, 2))
    b = rng.standard_normal((3, 2))
    return compare(student.add(a, b), a + b, rtol=RTOL, atol=ATOL, name="add(a, b)")


@check(points=1)
def center(student, rng):
    """center(x) = x - mean(x).

    The expected value is computed after the call, from the very array that was
    sent. Were inputs shared with the sandbox, a submission that zeroed its
    input and returned zeros would pass; inputs are copied, so it fails.
    """
    x = rng.standard_normal(6) + 3.0
    got = student.center(x)
    return compare(got, x - x.mean(), rtol=RTOL, atol=ATOL, name="center(x)")


@check(points=1)
def total(student, rng):
    """total(x) = the sum of a large array (a request bigger than a pipe buffer)."""
    x = rng.standard_normal(BIG_SHAPE)
    return compare(student.total(x), np.sum(x), rtol=1e-10, atol=1e-10, name="total(x)")


@check(points=2, hidden=True)
def square_hidden(student, rng):
    """square(x) on large inputs (hidden)."""
    x = rng.uniform(-1e3, 1e3, size=7)
    return compare(student.square(x), x * x, rtol=RTOL, atol=ATOL, name="square(x)")
