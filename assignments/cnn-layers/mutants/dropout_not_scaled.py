def dropout_forward(x, p, mode, seed):
    x = _f(x)
    if mode == "test":
        return x.copy(), (mode, None)
    mask = (np.random.default_rng(seed).random(x.shape) >= p).astype(FLOAT)  # no 1 / (1 - p)
    return x * mask, (mode, mask)
