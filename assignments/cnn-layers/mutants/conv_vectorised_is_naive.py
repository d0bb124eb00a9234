def conv_forward(x, w, b, stride=1, pad=0):
    return conv_forward_naive(x, w, b, stride, pad)  # "vectorised" in name only
