def cosine_decay(lr0, step, total_steps):
    return FLOAT(lr0 * (1 + math.cos(math.pi * step / total_steps)) / 2)  # rises after the end
