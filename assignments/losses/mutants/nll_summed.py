def nll_loss(log_probs, labels):
    lp = _f(log_probs)
    y = np.asarray(labels, dtype=np.int64)
    n = lp.shape[0]
    return FLOAT(-np.sum(lp[np.arange(n), y])), -_onehot(y, lp.shape[1])  # sum, not mean
