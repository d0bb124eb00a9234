_mse_right = mse_loss  # the solution's, kept before it is replaced


def mse_loss(pred, target, reduction="mean"):
    loss, grad = _mse_right(pred, target, reduction)
    if reduction == "mean":
        grad = grad * np.size(pred)  # the 1/N of the mean is forgotten in the gradient
    return loss, grad
