def two_layer_net(x, target, params):
    h_pre, c1 = affine_forward(x, params["W1"], params["b1"])
    h, c2 = sigmoid_forward(h_pre)
    o_pre, c3 = affine_forward(h, params["W2"], params["b2"])
    out, c4 = sigmoid_forward(o_pre)
    diff = out - _f(target)
    loss = FLOAT(0.5 * np.mean(diff * diff))  # a mean, not the notes' sum
    dh, dW2, db2 = affine_backward(sigmoid_backward(diff / diff.size, c4), c3)
    _, dW1, db1 = affine_backward(sigmoid_backward(dh, c2), c1)
    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
