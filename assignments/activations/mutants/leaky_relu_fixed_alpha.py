def leaky_relu(x, alpha=0.01):
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, x, 0.01 * x)


def leaky_relu_grad(x, alpha=0.01):
    return np.where(np.asarray(x, dtype=float) > 0, 1.0, 0.01)
