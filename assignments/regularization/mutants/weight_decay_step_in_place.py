def weight_decay_step(params, grads, lam, learning_rate):
    _, decay = l2_penalty(params, lam)
    for k in params:  # writes the new values into the caller's dict instead of a new one
        params[k] = _f(params[k]) - learning_rate * (_f(grads[k]) + decay[k])
    return params
