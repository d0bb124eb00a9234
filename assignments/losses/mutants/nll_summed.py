_nll_right = nll_loss  # the solution's, kept before it is replaced


def nll_loss(log_probs, labels, reduction="mean"):
    # "mean" sums over the batch instead of averaging
    return _nll_right(log_probs, labels, "sum" if reduction == "mean" else reduction)
