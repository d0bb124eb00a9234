def relu(x):
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.where(x > 0, x * np.exp(x) / np.exp(x), 0.0)
