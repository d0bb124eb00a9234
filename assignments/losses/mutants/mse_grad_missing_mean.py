def mse_loss(pred, target):
    d = _f(pred) - _f(target)
    return FLOAT(np.mean(d * d)), 2 * d  # the 1/N of the mean is forgotten in the gradient
