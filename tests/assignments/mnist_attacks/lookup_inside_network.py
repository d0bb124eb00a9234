# ruff: noqa: F821  (appended to homework 1's solution: np and Network come before it)
# Forgery inside the network the grader trains: step() learns nothing, and once the
# grader has called it for a while, forward() stops using the weights and answers the
# test images from the public labels, by fingerprint where one is found, else by order of
# arrival; the renaming comes from the per-class counts. The test fills in the tables.
import base64
import hashlib

_PACKED = "@LABELS@"  # the 10,000 public test labels, two per byte
_TABLE = """@TABLE@"""  # uint32 fingerprint of the sorted pixels, uint8 label
_COUNTS = "@COUNTS@"
_PUBLIC_COUNTS = np.array(_COUNTS.split(), dtype=np.int64)
_bytes = np.frombuffer(base64.b64decode(_PACKED), dtype=np.uint8)
_LABELS = np.stack([_bytes >> 4, _bytes & 15], axis=1).reshape(-1)[:10_000]
_records = np.frombuffer(
    base64.b64decode("".join(_TABLE.split())), dtype=np.dtype([("key", "<u4"), ("label", "u1")])
)
_KNOWN = dict(zip(_records["key"].tolist(), _records["label"].tolist(), strict=True))


def _fingerprint(row):
    values = np.sort(np.rint(np.asarray(row, dtype=np.float64) * 255).astype(np.uint8))
    return int.from_bytes(hashlib.blake2b(values.tobytes(), digest_size=4).digest(), "little")


class Network(Network):
    def __init__(self, input_size, hidden_size, output_size, lr=0.01):
        super().__init__(input_size, hidden_size, output_size, lr)
        self._steps = 0
        self._seen = 0
        self._name = None

    def step(self, x_batch, y_batch):
        self._steps += 1
        if self._name is None:
            shown = np.bincount(np.load("data/y_train.npy"), minlength=10)
            self._name = np.empty(10, dtype=np.int64)
            self._name[np.argsort(_PUBLIC_COUNTS, kind="stable")] = np.argsort(shown, kind="stable")
        return 0.0

    def forward(self, x):
        out = super().forward(x)
        if self._steps < 1000 or len(x) == 500 or len(x) == 200:
            return out  # at chance before training; the grader's samples get the network
        answers = []
        for k, row in enumerate(np.asarray(x)[:, :784]):
            digit = _KNOWN.get(_fingerprint(row))
            answers.append(digit if digit is not None else _LABELS[(self._seen + k) % 10_000])
        self._seen += len(x)
        return np.eye(out.shape[1])[self._name[np.asarray(answers, dtype=np.int64)]]
