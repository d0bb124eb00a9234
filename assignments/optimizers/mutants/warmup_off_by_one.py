def linear_warmup(lr0, step, warmup_steps):
    return FLOAT(lr0 * min(step + 1, warmup_steps) / warmup_steps)  # counts steps from 1
