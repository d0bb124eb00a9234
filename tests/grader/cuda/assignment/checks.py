"""The CUDA tests' one check: the model trained (its loss fell tenfold), wherever it ran."""

from grader.checks import CheckFailed, Verdict, check


@check(points=1)
def trains(student, rng):
    first, last = (float(v) for v in student.losses())
    if not first > 0:
        raise CheckFailed(f"the first loss is {first}, not a positive number")
    return Verdict(last < first / 10, f"the loss went from {first:.4g} to {last:.4g}")
