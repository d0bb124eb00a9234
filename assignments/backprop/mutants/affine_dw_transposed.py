def affine_backward(dout, cache):
    x, w = _f(cache[0]), _f(cache[1])
    dout = _f(dout)
    dx = (dout @ w.T).reshape(x.shape)
    dw = dout.T @ x.reshape(x.shape[0], -1)  # (M, D): the transpose of the gradient
    return dx, dw, dout.sum(axis=0)
