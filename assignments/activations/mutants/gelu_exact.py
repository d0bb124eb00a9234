import math as _math


def gelu(x):
    x = np.asarray(x, dtype=float)
    return 0.5 * x * (1.0 + np.vectorize(_math.erf)(x / np.sqrt(2.0)))


def gelu_grad(x):
    x = np.asarray(x, dtype=float)
    cdf = 0.5 * (1.0 + np.vectorize(_math.erf)(x / np.sqrt(2.0)))
    return cdf + x * np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi)
