def _step_without_b1(self, x_batch, y_batch):
    x, z1, a1, y_pred = self._forward(x_batch)
    dz2 = loss_fn_prime(y_batch, y_pred)
    dz1 = (dz2 @ self.W2.T) * relu_prime(z1)
    self.W1 -= self.lr * (x.T @ dz1)
    self.W2 -= self.lr * (a1.T @ dz2)
    self.b2 -= self.lr * dz2.sum(axis=0)


Network.step = _step_without_b1
