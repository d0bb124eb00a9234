def sigmoid_forward(x):
    e = np.exp(_f(x))
    out = e / (1 + e)  # inf / inf = NaN for x > 709.78
    return out, out
