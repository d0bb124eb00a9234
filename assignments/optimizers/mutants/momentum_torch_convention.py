def sgd_momentum(w, dw, config=None):
    w, dw, config = _begin(w, dw, config, learning_rate=1e-2, momentum=0.9)
    # torch's form: v = m v + dw; w -= lr v. The same path at a constant rate, not otherwise.
    v = config["momentum"] * _state(config, "velocity", w) + dw
    config["velocity"] = v
    return w - config["learning_rate"] * v, config
