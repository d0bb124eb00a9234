def l1_penalty(params, lam):
    value = FLOAT(0)
    grads = {}
    for name, p in params.items():
        p = _f(p)
        if is_weight(name):
            value = value + FLOAT(lam) * np.sum(np.abs(p))
            grads[name] = FLOAT(lam) * p  # the L2 gradient under the L1 name: sign(W) forgotten
        else:
            grads[name] = np.zeros_like(p)
    return FLOAT(value), grads
