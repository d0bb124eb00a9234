def relu_grad(x):
    return (np.asarray(x, dtype=float) >= 0).astype(float)
