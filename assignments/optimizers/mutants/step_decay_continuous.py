def step_decay(lr0, step, step_size, gamma):
    return FLOAT(lr0 * gamma ** (step / step_size))  # / instead of //: no steps
