def sigmoid(x):
    e = np.exp(np.asarray(x, dtype=float))
    return e / (1.0 + e)
