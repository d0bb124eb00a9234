def dropout_forward(x, p, mode, seed):
    x = _f(x)
    if mode == "test":
        return x * (1 - p)  # classic dropout's test scaling, on top of inverted dropout
    return x * (np.random.default_rng(seed).random(x.shape) >= p) / FLOAT(1 - p)
