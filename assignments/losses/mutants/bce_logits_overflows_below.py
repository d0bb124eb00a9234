def bce_with_logits_loss(logits, target, reduction="mean"):
    z, t = _f(logits), _f(target)
    # (1 - t) z + log(1 + exp(-z)): right for z > -709.78, inf below, where exp(-z) overflows.
    per = (1 - t) * z + np.log1p(np.exp(-z))
    return _reduce(per, _sigmoid(z) - t, reduction, z.size)
