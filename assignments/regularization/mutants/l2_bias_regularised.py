def l2_penalty(params, lam):
    value = FLOAT(0)
    grads = {}
    for name, p in params.items():
        p = _f(p)  # every array, biases included
        value = value + FLOAT(0.5) * FLOAT(lam) * np.sum(p * p)
        grads[name] = FLOAT(lam) * p
    return FLOAT(value), grads
