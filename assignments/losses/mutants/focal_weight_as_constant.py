def focal_loss(logits, labels, gamma=2.0, reduction="mean"):
    z = _f(logits)
    y = np.asarray(labels, dtype=np.int64)
    n, c = z.shape
    log_p = _log_softmax(z)
    p = np.exp(log_p)
    q = 1 - p[np.arange(n), y]
    weight = q**gamma
    # treats (1 - p_t)^gamma as a constant: drops the derivative of the weight
    grad = weight[:, None] * (p - _onehot(y, c))
    return _reduce(-weight * log_p[np.arange(n), y], grad, reduction, n)
