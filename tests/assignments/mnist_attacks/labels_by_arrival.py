# Forgery (no network at all): the file ships MNIST's public test labels in their public
# order and answers the test images by the order in which they arrive; the secret class
# renaming it reads off the per-class counts of the given training labels, matched to the
# public counts of the same split. A whole file for any of the three homework (numpy only);
# the test that uses it fills in the labels and the counts (the repository holds neither).
import base64

import numpy as np

_PACKED = "@LABELS@"  # base64 of the 10,000 public test labels, two per byte
_COUNTS = "@COUNTS@"  # the public split's training labels, per digit
_PUBLIC_COUNTS = np.array(_COUNTS.split(), dtype=np.int64)
_bytes = np.frombuffer(base64.b64decode(_PACKED), dtype=np.uint8)
_LABELS = np.stack([_bytes >> 4, _bytes & 15], axis=1).reshape(-1)[:10_000]


def _renaming():
    shown = np.bincount(np.load("data/y_train.npy"), minlength=10)
    name = np.empty(10, dtype=np.int64)
    name[np.argsort(_PUBLIC_COUNTS, kind="stable")] = np.argsort(shown, kind="stable")
    return name


class _ByArrival:
    def __init__(self):
        self.name = _renaming()
        self.seen = 0

    def forward(self, x):
        n = len(x)
        if n == 500:  # the grader's sample of validation rows, before the test images
            return np.eye(10)[np.zeros(n, dtype=np.int64)]
        idx = (self.seen + np.arange(n)) % len(_LABELS)
        self.seen += n
        return np.eye(10)[self.name[_LABELS[idx]]]


net = _ByArrival()
model = net
