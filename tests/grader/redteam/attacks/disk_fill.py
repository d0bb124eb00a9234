"""Fill every writable place with files until refused, then answer honestly.

Writes 1 MiB chunks into many files in each folder (a per-file size limit alone
would not stop that), up to 256 MiB per folder, and prints how much each took.
Expected: full marks, and no folder accepted more than the sandbox's tmpfs
size (16 MiB).
"""

import os

import numpy as np

CHUNK = b"\0" * (1 << 20)
FOLDERS = ["/tmp", "/tmp/work", "/dev/shm", "/dev", "/", "/opt", "/run", "/var/tmp", "/home"]
LIMIT_MB = 256


def _fill(folder: str) -> int:
    written = 0
    for k in range(LIMIT_MB // 16):
        path = os.path.join(folder, f"dlgrade-redteam-fill-{k}")
        try:
            with open(path, "wb") as fh:
                for _ in range(16):
                    fh.write(CHUNK)
                    fh.flush()
                    written += 1
        except OSError:
            return written
    return written


for folder in FOLDERS:
    print(f"filled {folder}: {_fill(folder)} MiB")


def square(x):
    return x * x


def add(a, b):
    return a + b


def center(x):
    return x - np.mean(x)


def total(x):
    return float(np.sum(x))
