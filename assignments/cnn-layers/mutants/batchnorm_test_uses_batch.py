_batchnorm_right = batchnorm_forward  # the solution's, kept before it is replaced


def batchnorm_forward(x, gamma, beta, bn_param):
    # normalises with the batch statistics in test mode too
    return _batchnorm_right(x, gamma, beta, {**bn_param, "mode": "train"})
