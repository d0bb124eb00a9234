def sgd_momentum(w, dw, config=None):
    w, dw, config = _begin(w, dw, config, learning_rate=1e-2, momentum=0.9)
    v = config["momentum"] * _state(config, "velocity", w) + config["learning_rate"] * dw
    config["velocity"] = v
    w -= v  # the caller's weights move under it (w arrived as float64, so _f did not copy)
    return w, config
