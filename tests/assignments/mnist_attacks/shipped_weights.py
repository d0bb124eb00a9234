# ruff: noqa: F821  (appended to a submission that defines np and Network)
# An attack on homework 1 by a student whose back-propagation never worked: step() does
# nothing, and Network() loads trained weights shipped inside the file (float16, base64,
# ~70 KB), so the grader's ten epochs of training change nothing. The test that uses this
# file fills in the weights (trained there; the repository holds only the placeholder).
import base64

HIDDEN_SIZE = 32
_SHIPPED = "@WEIGHTS@"  # W1 (784, 32), b1 (32,), W2 (32, 10), b2 (10,) as float16
_flat = np.frombuffer(base64.b64decode(_SHIPPED), dtype="<f2").astype(np.float64)
_shapes = {"W1": (784, 32), "b1": (32,), "W2": (32, 10), "b2": (10,)}
_WEIGHTS, _at = {}, 0
for _name, _shape in _shapes.items():
    _size = int(np.prod(_shape))
    _WEIGHTS[_name] = _flat[_at : _at + _size].reshape(_shape)
    _at += _size


class Network(Network):
    def __init__(self, input_size, hidden_size, output_size, lr=0.01):
        super().__init__(input_size, hidden_size, output_size, lr)
        if (input_size, hidden_size, output_size) == (784, 32, 10):
            for name, value in _WEIGHTS.items():
                setattr(self, name, value.copy())

    def step(self, x_batch, y_batch):
        return 0.0
