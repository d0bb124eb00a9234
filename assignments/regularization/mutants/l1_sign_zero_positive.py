def l1_penalty(params, lam):
    value, grads = 0.0, {}
    for k, p in params.items():
        p = _f(p)
        if k.startswith("W"):
            value += lam * np.sum(np.abs(p))
            grads[k] = lam * np.where(p >= 0, 1.0, -1.0)  # sign(0) taken as +1, not 0
        else:
            grads[k] = np.zeros_like(p)
    return value, grads
