def bce_loss(prob, target, reduction="mean"):
    p, t = _f(prob), _f(target)
    per = -(t * np.log(p) + (1 - t) * np.log(1 - p))  # log(0) = -inf at p = 0 or 1
    return _reduce(per, (p - t) / (p * (1 - p)), reduction, p.size)
