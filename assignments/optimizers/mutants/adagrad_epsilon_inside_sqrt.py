def adagrad(w, dw, config=None):
    w, dw, config = _begin(w, dw, config, learning_rate=1e-2, epsilon=1e-8)
    cache = _state(config, "cache", w) + dw * dw
    config["cache"] = cache
    # sqrt(cache + eps), not sqrt(cache) + eps: the same step unless the cache is tiny.
    return w - config["learning_rate"] * dw / np.sqrt(cache + config["epsilon"]), config
