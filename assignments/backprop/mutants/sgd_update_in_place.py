def sgd_update(params, grads, learning_rate):
    for k in params:  # updates the caller's arrays in place and hands them back
        params[k] -= learning_rate * np.asarray(grads[k])
    return params
