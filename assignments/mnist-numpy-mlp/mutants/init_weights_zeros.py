def init_weights(shape):
    return np.zeros(shape)
