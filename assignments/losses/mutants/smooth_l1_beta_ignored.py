def smooth_l1_loss(pred, target, beta=1.0, reduction="mean"):
    d = _f(pred) - _f(target)
    a = np.abs(d)
    inside = a < beta
    per = np.where(inside, 0.5 * d * d, a - 0.5 * beta)  # forgets the / beta inside the band
    grad = np.where(inside, d, np.sign(d))
    return _reduce(per, grad, reduction, d.size)
