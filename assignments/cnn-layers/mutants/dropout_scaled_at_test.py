def dropout_forward(x, p, mode, seed):
    x = _f(x)
    if mode == "test":
        return x * (1 - p), (mode, None)  # classic dropout's test scaling on top of inverted
    mask = (np.random.default_rng(seed).random(x.shape) >= p) / FLOAT(1 - p)
    return x * mask, (mode, mask.astype(FLOAT))
