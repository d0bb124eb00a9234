_cross_entropy_right = cross_entropy_loss  # the solution's, kept before it is replaced


def cross_entropy_loss(logits, labels, reduction="mean"):
    loss, grad = _cross_entropy_right(logits, labels, reduction)
    if reduction == "mean":
        grad = grad * np.shape(logits)[0]  # the loss is a mean over N, the gradient forgets 1/N
    return loss, grad
