_conv_backward_right = conv_backward  # the solution's, kept before it is replaced


def conv_backward(dout, cache):
    dx, dw, _ = _conv_backward_right(dout, cache)
    return dx, dw, _f(dout).sum(axis=0)  # sums over the batch only: shape (F, H', W')
