def f(x):
    e = np.exp(np.asarray(x, dtype=np.float64))
    return e / np.sum(e, axis=-1, keepdims=True)
