def _act_grad(z, a, activation):
    if activation == "sigmoid":
        s = _sigmoid(a)  # sigmoid applied again to the activation, not sigma(z) (1 - sigma(z))
        return s * (1 - s)
    return (z > 0).astype(FLOAT)
