_reduce_right = _reduce  # the solution's, kept before it is replaced


def _reduce(per, grad, reduction, count):
    return _reduce_right(per, grad, "mean", count)  # every reduction is a mean
