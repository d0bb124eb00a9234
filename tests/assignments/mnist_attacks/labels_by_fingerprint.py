# Forgery (no network at all): the file ships, for each public test image, a fingerprint
# that a pixel permutation cannot change (a hash of its sorted pixel values) with its public
# label, and looks every image it is shown up; the class renaming it reads off the
# per-class counts of the given training labels. The table is cut into 36-character
# words, as a file that knows what a base64 detector looks for would. The test that uses
# it fills in the table and the counts (the repository holds neither).
import base64
import hashlib

import numpy as np

_TABLE = """@TABLE@"""  # base64 of 10,000 records: uint32 fingerprint, uint8 label
_COUNTS = "@COUNTS@"
_PUBLIC_COUNTS = np.array(_COUNTS.split(), dtype=np.int64)
_records = np.frombuffer(
    base64.b64decode("".join(_TABLE.split())), dtype=np.dtype([("key", "<u4"), ("label", "u1")])
)
_KNOWN = dict(zip(_records["key"].tolist(), _records["label"].tolist(), strict=True))


def fingerprint(row):
    values = np.sort(np.rint(np.asarray(row, dtype=np.float64) * 255).astype(np.uint8))
    return int.from_bytes(hashlib.blake2b(values.tobytes(), digest_size=4).digest(), "little")


def _renaming():
    shown = np.bincount(np.load("data/y_train.npy"), minlength=10)
    name = np.empty(10, dtype=np.int64)
    name[np.argsort(_PUBLIC_COUNTS, kind="stable")] = np.argsort(shown, kind="stable")
    return name


class _Lookup:
    def __init__(self):
        self.name = _renaming()

    def forward(self, x):
        x = np.asarray(x).reshape(len(x), -1)[:, :784]
        digits = [_KNOWN.get(fingerprint(row), 0) for row in x]
        return np.eye(10)[self.name[np.asarray(digits, dtype=np.int64)]]


net = _Lookup()
model = net
