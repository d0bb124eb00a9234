def f_prime(x):
    return f(x) * (1.0 - np.asarray(x, dtype=np.float64))
