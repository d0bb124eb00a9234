def rmsprop(w, dw, config=None):
    w, dw, config = _begin(w, dw, config, learning_rate=1e-2, decay_rate=0.99, epsilon=1e-8)
    cache = _state(config, "cache", w) + dw * dw  # Adagrad's sum: the cache never forgets
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"]), config
