def he_normal(fan_in, fan_out, seed):
    std = math.sqrt(2.0 / fan_out)  # the wrong fan
    return (std * np.random.default_rng(seed).standard_normal((fan_in, fan_out))).astype(FLOAT)
