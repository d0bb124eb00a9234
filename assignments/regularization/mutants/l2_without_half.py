_l2_right = l2_penalty  # the solution's, kept before it is replaced


def l2_penalty(params, lam):
    value, grads = _l2_right(params, lam)
    return 2 * value, grads  # lam * sum(W^2), while the gradient is that of lam / 2 * sum(W^2)
