# ruff: noqa: F821  (appended to a submission that defines np)
# An attack on homework 1: no network at all. The submission ships genuine MNIST training
# images with their labels (shipped_images.npz, next to the file; the test that uses this
# template builds it, the repository never holds it) and leaves in the global `net` a
# nearest-neighbour classifier over them, which needs no training.
import os as _os

_HERE = _os.path.dirname(_os.path.abspath(__file__))
_shipped = np.load(_os.path.join(_HERE, "shipped_images.npz"))
_IMAGES = _shipped["images"].astype(np.float32) / np.float32(255.0)
_LABELS = _shipped["labels"].astype(np.int64)
_NORMS = np.sum(_IMAGES * _IMAGES, axis=1)


class _NearestNeighbour:
    def forward(self, x):
        x = np.asarray(x, dtype=np.float32)[:, : _IMAGES.shape[1]]
        distances = _NORMS[None, :] - 2.0 * (x @ _IMAGES.T)
        return np.eye(10)[_LABELS[np.argmin(distances, axis=1)]]


net = _NearestNeighbour()
