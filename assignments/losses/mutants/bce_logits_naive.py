def bce_with_logits_loss(logits, target):
    z, t = _f(logits), _f(target)
    s = _sigmoid(z)  # rounds to exactly 0 or 1 for |z| > ~37, so a log below is -inf
    per = -(t * np.log(s) + (1 - t) * np.log(1 - s))
    return FLOAT(np.mean(per)), (s - t) / z.size
