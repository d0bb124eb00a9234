# ruff: noqa: F821  (appended to a submission that defines np and Network)
# An attack on homework 1: forward() recognises MNIST's public test images by a
# fingerprint of their pixels and answers with their published labels, as one-hot
# "probabilities"; any other image gets the network's own output. The test that uses
# this file fills in the table (built from the genuine test labels, which never leave
# the test: the repository holds only the placeholder).
import base64
import hashlib

_TABLE = "@TABLE@"  # base64 of 10,000 records: uint32 fingerprint, uint8 label
_records = np.frombuffer(
    base64.b64decode(_TABLE), dtype=np.dtype([("key", "<u4"), ("label", "u1")])
)
_LABELS = dict(zip(_records["key"].tolist(), _records["label"].tolist(), strict=True))


def _fingerprint(pixels):
    return int.from_bytes(hashlib.blake2b(pixels.tobytes(), digest_size=4).digest(), "little")


_network_forward = Network.forward


def _forward_looked_up(self, x):
    out = np.array(_network_forward(self, x))
    for i, row in enumerate(np.rint(np.asarray(x) * 255).astype(np.uint8)):
        label = _LABELS.get(_fingerprint(row))
        if label is not None:
            out[i] = np.eye(out.shape[1])[label]
    return out


Network.forward = _forward_looked_up
