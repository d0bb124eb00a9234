def tanh_grad(x):
    return 1.0 - np.tanh(np.asarray(x, dtype=float))
