"""Checks of the worker tests' assignment: exact answers, so any slip fails."""

from grader.checks import check, compare


@check(points=1)
def add(student, rng):
    x, y = rng.standard_normal(5), rng.standard_normal(5)
    return compare(student.add(x, y), x + y, rtol=0, atol=0, name="add(x, y)")


@check(points=2)
def scale(student, rng):
    x = rng.standard_normal((3, 4))
    return compare(student.scale(x, 2.5), 2.5 * x, rtol=0, atol=0, name="scale(x, 2.5)")
