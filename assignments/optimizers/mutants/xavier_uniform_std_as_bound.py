def xavier_uniform(fan_in, fan_out, seed):
    a = math.sqrt(2.0 / (fan_in + fan_out))  # the normal's std used as the bound
    return np.random.default_rng(seed).uniform(-a, a, (fan_in, fan_out)).astype(FLOAT)
