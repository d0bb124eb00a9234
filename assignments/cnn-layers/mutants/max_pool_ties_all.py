def max_pool_forward(x, pool=2, stride=2):
    x = _f(x)
    return _windows(x, pool, stride).max(axis=(-2, -1)), (x, pool, stride)


def max_pool_backward(dout, cache):
    x, pool, stride = cache
    x, dout = _f(x), _f(dout)
    dx = np.zeros_like(x)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            win = x[:, :, i * stride : i * stride + pool, j * stride : j * stride + pool]
            # the mask of the maximum: every entry that ties gets the whole gradient
            mask = win == win.max(axis=(2, 3), keepdims=True)
            dx[:, :, i * stride : i * stride + pool, j * stride : j * stride + pool] += (
                mask * dout[:, :, i, j][:, :, None, None]
            )
    return dx
