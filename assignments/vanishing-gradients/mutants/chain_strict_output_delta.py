_chain_right = sigmoid_chain  # the solution's, kept before it is replaced


def sigmoid_chain(a1, w=1.0, b=1.0, target=1.0, units=5):
    acts, deltas = _chain_right(a1, w, b, target, units)
    # the strict dE/dz at the output, (a - target) a (1 - a): not the notes' delta
    scale = acts[-1] * (1 - acts[-1])
    return acts, deltas * scale
