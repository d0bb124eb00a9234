"""Embedded data measured by what it holds (grader/embedded.py): every encoding and every
way of cutting it up is found; no file the course hands in is pointed at."""

from __future__ import annotations

import base64
import bz2
import zlib
from pathlib import Path

import numpy as np
import pytest

from grader import embedded

ROOT = Path(__file__).resolve().parents[2]
PAYLOAD = np.random.default_rng(0).integers(0, 256, 5_000, dtype=np.uint8).tobytes()
LABELS = np.random.default_rng(1).integers(0, 10, 10_000, dtype=np.uint8)  # like MNIST's
PACKED = ((LABELS[0::2] << 4) | LABELS[1::2]).tobytes()  # 5,000 bytes


def _words(text: str, size: int, sep: str = " ") -> str:
    return sep.join(text[i : i + size] for i in range(0, len(text), size))


B64 = base64.b64encode(PACKED).decode()


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        (f'T = "{B64}"\n', "base64-like text"),
        # Cut into words of 36, or of 8, characters: one piece once stripped and joined.
        (f'T = """{_words(B64, 36)}"""\n', "base64-like text"),
        (f'T = """{_words(B64, 8, chr(10))}"""\n', "base64-like text"),
        # A list of short strings, joined at run time.
        (
            "T = [" + ", ".join(f'"{w}"' for w in _words(B64, 20).split()) + "]\n",
            "base64-like text",
        ),
        (f'T = "{PACKED.hex()}"\n', "hexadecimal text"),
        (f'T = "{base64.b85encode(PAYLOAD).decode()}"\n', "base85-like text"),
        (f"T = {PAYLOAD!r}\n", "dense bytes"),
        (f"T = {zlib.compress(LABELS.tobytes())!r}\n", "a zlib blob in a bytes literal"),
        (
            f'T = "{base64.b64encode(bz2.compress(PAYLOAD)).decode()}"\n',
            "base64-like text holding a bz2 blob",
        ),
        # Inside a function, split over two statements' worth of pieces.
        (
            "def table():\n    a = '" + B64[:4000] + "'\n    return a + '" + B64[4000:] + "'\n",
            "base64-like text",
        ),
    ],
)
def test_data_is_found_whatever_holds_it(source, kind):
    (flag,) = embedded.flags(source)
    assert flag.startswith("it embeds ") and f"({kind})" in flag, flag


def test_numbers_written_out_are_counted():
    weights = "W = [" + ", ".join(f"{v:.4f}" for v in np.linspace(-1, 1, 3000)) + "]\n"
    assert embedded.flags(weights) == ["it writes out 3,000 numbers"]
    ints = "Y = [" + ", ".join(str(int(v)) for v in LABELS[:2500]) + "]\n"
    assert embedded.flags(ints) == ["it writes out 2,500 numbers"]


def test_prose_code_and_small_data_are_not_pointed_at():
    prose = (ROOT / "docs" / "AUTHORING.md").read_text()
    assert embedded.flags(f"DOC = {prose!r}\n") == []
    assert embedded.flags(f'T = "{B64[:1200]}"\n') == []  # 900 bytes: below DATA_FLAG_BYTES
    assert embedded.entropy(B64) > embedded.DENSE_ENTROPY > embedded.entropy("".join(prose.split()))


def test_no_file_the_course_hands_in_is_pointed_at():
    files = [
        *ROOT.glob("assignments/*/examples/*.py"),
        *ROOT.glob("assignments/*/solution/*.py"),
        *ROOT.glob("assignments/*/starter/*.py"),
    ]
    assert len(files) > 20
    for path in files:
        assert embedded.flags(path.read_text()) == [], path
