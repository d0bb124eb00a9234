def dropout_forward(x, p, mode, seed):
    x = _f(x)
    if mode == "test":
        return x.copy()
    return x * (np.random.default_rng(seed).random(x.shape) >= p)  # no 1 / (1 - p)
