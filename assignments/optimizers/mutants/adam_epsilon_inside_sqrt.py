def adam(w, dw, config=None):
    w, dw, config = _begin(w, dw, config, learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8)
    b1, b2 = config["beta1"], config["beta2"]
    t = int(config.get("t", 0)) + 1
    m = b1 * _state(config, "m", w) + (1 - b1) * dw
    v = b2 * _state(config, "v", w) + (1 - b2) * dw * dw
    config.update(t=t, m=m, v=v)
    m_hat = m / (1 - b1**t)
    v_hat = v / (1 - b2**t)
    # eps inside the root: sqrt(v_hat + eps) is sqrt(v_hat) + eps unless v_hat is tiny.
    return w - config["learning_rate"] * m_hat / np.sqrt(v_hat + config["epsilon"]), config
