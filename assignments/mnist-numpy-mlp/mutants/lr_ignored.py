_network_init = Network.__init__


def _init_fixed_lr(self, input_size, hidden_size, output_size, lr=0.01):
    _network_init(self, input_size, hidden_size, output_size)
    self.lr = 0.01


Network.__init__ = _init_fixed_lr
