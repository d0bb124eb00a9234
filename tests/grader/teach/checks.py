"""Checks of the report tests' assignment: one group per function, one check across two."""

import numpy as np

from grader.checks import all_of, check, compare


@check(points=1)
def mean_square(student, rng):
    x = rng.standard_normal((4, 5))
    return compare(student.mean_square(x), np.mean(x**2), name="mean_square(x)")


@check(points=2)
def mean_square_grad(student, rng):
    x = rng.standard_normal((4, 5))
    return compare(student.mean_square_grad(x), 2 * x / x.size, name="mean_square_grad(x)")


@check(points=1)
def relu(student, rng):
    x = rng.uniform(0.1, 3, 8) * np.where(np.arange(8) % 2, 1, -1)
    return compare(student.relu(x), np.maximum(x, 0), name="relu(x)")


@check(points=1, hidden=True)
def relu_large_inputs(student, rng):
    x = rng.uniform(710, 1000, 6) * np.where(np.arange(6) % 2, 1, -1)
    return compare(student.relu(x), np.maximum(x, 0), name="relu at |x| up to 1000")


@check(points=1)
def relu_grad(student, rng):
    x = rng.uniform(0.1, 3, 8) * np.where(np.arange(8) % 2, 1, -1)
    return compare(student.relu_grad(x), (x > 0).astype(float), name="relu_grad(x)")


@check(points=1)
def kinks(student, rng):
    """relu and relu_grad at 0, where the notes define relu'(0) = 0."""
    zeros = np.zeros(3)
    return all_of(
        compare(student.relu(zeros), zeros, name="relu at 0"),
        compare(student.relu_grad(zeros), zeros, name="relu_grad at 0"),
    )
