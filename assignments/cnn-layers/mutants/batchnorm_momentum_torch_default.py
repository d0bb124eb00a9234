def batchnorm_forward(x, gamma, beta, bn_param):
    x, gamma, beta = _f(x), _f(gamma), _f(beta)
    n, d = x.shape
    eps = bn_param.get("eps", 1e-5)
    # torch's default momentum 0.1 where bn_param has none: the starter's 0.9 weighs the OLD
    # running value, so this keeps a tenth of it
    momentum = bn_param.get("momentum", 0.1)
    running_mean = _f(bn_param.get("running_mean", np.zeros(d)))
    running_var = _f(bn_param.get("running_var", np.ones(d)))
    if bn_param["mode"] == "train":
        mean, var = x.mean(axis=0), x.var(axis=0)
        bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mean
        bn_param["running_var"] = momentum * running_var + (1 - momentum) * var * n / (n - 1)
    else:
        mean, var = running_mean, running_var
    inv_std = 1 / np.sqrt(var + eps)
    x_hat = (x - mean) * inv_std
    return gamma * x_hat + beta, (bn_param["mode"], x_hat, gamma, inv_std), bn_param
