def sgd_update(params, grads, learning_rate):
    return {k: _f(v) + learning_rate * _f(grads[k]) for k, v in params.items()}  # uphill
