def _step_that_does_nothing(self, x_batch, y_batch):
    return loss_fn(y_batch, self.forward(x_batch))


Network.step = _step_that_does_nothing
