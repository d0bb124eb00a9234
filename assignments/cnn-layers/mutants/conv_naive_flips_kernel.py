_conv_naive_right = conv_forward_naive  # the solution's, kept before it is replaced


def conv_forward_naive(x, w, b, stride=1, pad=0):
    # a true convolution (kernel flipped), not the cross-correlation the notes and torch use
    out, cache = _conv_naive_right(x, _f(w)[:, :, ::-1, ::-1], b, stride, pad)
    return out, (cache[0], _f(w), cache[2], stride, pad)
