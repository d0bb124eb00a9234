def loss_fn_prime(y_true, y_pred):
    y_true = np.asarray(y_true, dtype=np.float64)
    return (y_true - np.asarray(y_pred, dtype=np.float64)) / y_true.shape[0]
