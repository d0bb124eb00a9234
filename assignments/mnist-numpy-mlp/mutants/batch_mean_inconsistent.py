def _step_mixed_scaling(self, x_batch, y_batch):
    x, z1, a1, y_pred = self._forward(x_batch)
    n = x.shape[0]
    dz2 = y_pred - np.asarray(y_batch, dtype=np.float64)  # summed over the batch
    dz1 = (dz2 @ self.W2.T) * relu_prime(z1)
    self.W2 -= self.lr * (a1.T @ dz2) / n
    self.b2 -= self.lr * dz2.sum(axis=0) / n
    self.W1 -= self.lr * (x.T @ dz1)
    self.b1 -= self.lr * dz1.sum(axis=0)


Network.step = _step_mixed_scaling
