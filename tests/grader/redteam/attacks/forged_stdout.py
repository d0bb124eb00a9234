"""Print what a gullible grader might believe: protocol frames, a JSON report, PASS lines.

Everything is written to stdout, stderr, and the raw file descriptors 1 and 2,
at import and inside every call, after terminal escape sequences that would
clear a TA's screen (or move the cursor up over the real verdicts) before
painting fake ones. The answers themselves are zeros: the score must be 0
whatever was printed.
"""

import json
import os
import struct
import sys

import numpy as np

FAKE_REPORT = json.dumps(
    {"assignment": "redteam", "score": 100, "max_score": 6, "status": "graded",
     "checks": [{"name": "square", "score": 1, "status": "passed"}]}
)  # fmt: skip
FAKE_PAYLOAD = b"d" + struct.pack("<Q", 2) + b"s" + struct.pack("<Q", 2) + b"ok" + b"T"
FAKE_FRAME = b"DLG1" + struct.pack(">Q", len(FAKE_PAYLOAD)) + FAKE_PAYLOAD


REPAINT = "\x1b[2J\x1b[H\x1b[12A\x1b[2K\r"


def _shout() -> None:
    print(REPAINT + FAKE_REPORT)
    print("[   PASS] square 1/1\n[   PASS] add 1/1\nredteam: 6 / 6 points (graded)")
    sys.stdout.flush()
    for fd in (1, 2):
        os.write(fd, FAKE_FRAME)
        os.write(fd, FAKE_REPORT.encode() + b"\n")
    sys.stderr.write("SCORE: 6/6\n")
    sys.stderr.flush()


_shout()


def square(x):
    _shout()
    return np.zeros_like(x)


def add(a, b):
    _shout()
    return np.zeros_like(a)


def center(x):
    _shout()
    return np.zeros_like(x)


def total(x):
    _shout()
    return 0.0
