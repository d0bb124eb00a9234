def bce_with_logits_loss(logits, target, reduction="mean"):
    z, t = _f(logits), _f(target)
    s = _sigmoid(z)  # rounds to exactly 0 or 1 for |z| > ~37, so a log below is -inf
    per = -(t * np.log(s) + (1 - t) * np.log(1 - s))
    return _reduce(per, s - t, reduction, z.size)
