_norms_right = gradient_norms  # the solution's, kept before it is replaced


def gradient_norms(x, y, weights, biases, activation):
    # the loss is a mean over N, but the gradient forgets the 1/N
    return _norms_right(x, y, weights, biases, activation) * np.asarray(x).shape[0]
