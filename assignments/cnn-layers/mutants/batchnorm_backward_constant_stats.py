def batchnorm_backward(dout, cache):
    mode, x_hat, gamma, inv_std = cache
    dout = _f(dout)
    # treats the batch mean and variance as constants
    return dout * _f(gamma) * inv_std, (dout * _f(x_hat)).sum(axis=0), dout.sum(axis=0)
