"""Try to plant files outside the sandbox's scratch space; answer honestly otherwise.

Every write that succeeds is printed. The functions are correct, so the score
is full; the test asserts that none of the host paths exist afterwards.
"""

import os

import numpy as np

NAME = "dlgrade-redteam-escaped-write"
TARGETS = [
    "@@HOST_DIR@@",
    "@@REPO@@",
    "@@FIXTURE@@",
    "@@FIXTURE@@/solution",
    "@@HOME@@",
    "/tmp",
    "/",
    "/sandbox",
    "/sandbox/submission",
    "/sandbox/runner",
    "/opt/env",
    "/usr",
    "/proc/1/cwd",
    "/proc/1/root/tmp",
    "/proc/self/root/tmp",
    "../../..",
]
for folder in TARGETS:
    path = os.path.join(folder, NAME)
    try:
        with open(path, "w") as fh:
            fh.write("escaped\n")
        print("WROTE", path)
    except OSError as exc:
        print("refused", path, type(exc).__name__)
try:
    os.symlink("@@HOST_DIR@@", "/tmp/host")
    with open("/tmp/host/" + NAME + "-via-symlink", "w") as fh:
        fh.write("escaped\n")
    print("WROTE via symlink")
except OSError as exc:
    print("refused symlink", type(exc).__name__)


def square(x):
    return x * x


def add(a, b):
    return a + b


def center(x):
    return x - np.mean(x)


def total(x):
    return float(np.sum(x))
