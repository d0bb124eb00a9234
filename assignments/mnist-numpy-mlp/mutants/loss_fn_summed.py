def loss_fn(y_true, y_pred):
    log_p = np.log(np.clip(np.asarray(y_pred, dtype=np.float64), 1e-300, 1.0))
    return float(-np.sum(np.asarray(y_true) * log_p))
