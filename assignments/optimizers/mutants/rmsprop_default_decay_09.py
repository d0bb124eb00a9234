def rmsprop(w, dw, config=None):
    # decay_rate 0.9 by default (Hinton's lecture), not the starter's 0.99
    w, dw, config = _begin(w, dw, config, learning_rate=1e-2, decay_rate=0.9, epsilon=1e-8)
    rho = config["decay_rate"]
    cache = rho * _state(config, "cache", w) + (1 - rho) * dw * dw
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"]), config
