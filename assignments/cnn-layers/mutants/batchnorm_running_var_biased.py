_batchnorm_right = batchnorm_forward  # the solution's, kept before it is replaced


def batchnorm_forward(x, gamma, beta, bn_param):
    x = _f(x)
    out, cache, bn_param = _batchnorm_right(x, gamma, beta, bn_param)
    if bn_param["mode"] == "train":
        n = x.shape[0]
        m = bn_param.get("momentum", 0.9)
        # undo the N / (N - 1): the running variance keeps the biased batch variance
        old = (bn_param["running_var"] - (1 - m) * x.var(axis=0) * n / (n - 1)) / m
        bn_param["running_var"] = m * old + (1 - m) * x.var(axis=0)
    return out, cache, bn_param
