_mse_right = mse_loss  # the solution's, kept before it is replaced


def mse_loss(pred, target, reduction="mean"):
    if reduction != "mean":
        return _mse_right(pred, target, reduction)
    total, grad = _mse_right(pred, target, "sum")
    n = np.shape(pred)[0]  # divides by the batch size, not by the number of elements
    return FLOAT(total / n), grad / n
