def sigmoid_chain(a1, w=1.0, b=1.0, target=1.0, units=5):
    acts = [FLOAT(a1)]
    for _ in range(units):
        acts.append(_sigmoid(FLOAT(w) * acts[-1] + FLOAT(b)))
    deltas = [acts[-1] - FLOAT(target)]
    for k in range(units - 1, 0, -1):
        deltas.append(deltas[-1] * acts[k] * (1 - acts[k]))  # the weight w is left out
    return _f(acts), _f(deltas[::-1])
