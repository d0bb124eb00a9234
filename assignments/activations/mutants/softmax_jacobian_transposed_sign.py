def softmax_jacobian(z):
    s = softmax(np.asarray(z, dtype=float))
    return np.diag(s) + np.outer(s, s)
