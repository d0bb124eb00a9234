def mse_loss(pred, target):
    d = _f(pred) - _f(target)
    n = d.shape[0]  # divides by the batch size, not by the number of elements
    return FLOAT(np.sum(d * d) / n), 2 * d / n
