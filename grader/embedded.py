"""Data embedded in a submitted source file, measured by what it holds (for a TA; never a
verdict).

A file that carries labels, images or weights must carry them as literals: strings or
bytes (base64, hex, base85, raw), numbers written out, or a compressed blob. A pattern
for one encoding is dodged by another, or by cutting the text into words; so each
statement's string and bytes literals are joined, stripped of whitespace, and judged by
their content:

- text in the base64 alphabet (or base85's) whose characters carry over 5 bits each
  (English prose stripped of its spaces carries about 4.1, random base64 6);
- text of hexadecimal digits only;
- bytes or text that a general compressor cannot shrink below 70% (data already dense);
- inside any of these, the header of a zlib, gzip, bz2, xz or zip stream;

and numeric literals are counted. The course's homework hold none of these in amounts
that matter (tests/grader/test_embedded.py measures the examples).
"""

from __future__ import annotations

import ast
import base64
import binascii
import math
import re
import zlib
from collections import Counter
from dataclasses import dataclass

# Data smaller than this is not pointed out: 10,000 test labels packed two per byte are
# 5,000 bytes (6.7 kB of base64); a 784-32-10 network in float16 is 50 kB.
DATA_FLAG_BYTES = 1_000
# Numbers written out beyond this many are pointed out (the course's files hold < 100).
MANY_NUMBERS = 2_000
FILE_FLAG_BYTES = 200_000
DENSE_ENTROPY = 5.0  # bits per character: above English prose, below random base64 (6)
DENSE_RATIO = 0.7  # compressed / raw size above which data is already dense
_BASE64 = re.compile(r"[A-Za-z0-9+/=_-]+")
_BASE85 = re.compile(r"[0-9A-Za-z!#$%&()*+\-;<=>?@^_`{|}~]+")
_HEX = re.compile(r"(?:0x)?[0-9a-fA-F]+")
_TOKEN = re.compile(r"[0-9A-Za-z+/=_\-!#$%&()*;<>?@^`{|}~]+")  # base64's, base85's, hex's
_MAGIC = {
    b"\x78\x01": "zlib",
    b"\x78\x5e": "zlib",
    b"\x78\x9c": "zlib",
    b"\x78\xda": "zlib",
    b"\x1f\x8b": "gzip",
    b"BZh": "bz2",
    b"\xfd7zXZ": "xz",
    b"PK\x03\x04": "zip",
    b"\x93NUMPY": "a NumPy array file",
}


@dataclass(frozen=True)
class Embedded:
    """What one piece of a file holds: its size in bytes once decoded, and how it is held."""

    size: int
    kind: str


def entropy(text: str | bytes) -> float:
    """Shannon entropy of the characters (or bytes), in bits each."""
    if not text:
        return 0.0
    counts = Counter(text)
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _compressed_ratio(data: bytes) -> float:
    return len(zlib.compress(data, 6)) / max(1, len(data))


def _blob(data: bytes) -> str | None:
    for magic, name in _MAGIC.items():
        if data.startswith(magic):
            return name
    return None


def judge(text: str | bytes) -> Embedded | None:
    """What a literal (already joined and stripped of whitespace) holds, if it is data of
    ``DATA_FLAG_BYTES`` or more once decoded."""
    found = _judge(text)
    return found if found is not None and found.size >= DATA_FLAG_BYTES else None


def _judge(text: str | bytes) -> Embedded | None:
    if isinstance(text, bytes):
        if len(text) < DATA_FLAG_BYTES:
            return None
        blob = _blob(text)
        if blob:
            return Embedded(len(text), f"a {blob} blob in a bytes literal")
        if _compressed_ratio(text) > DENSE_RATIO:
            return Embedded(len(text), "dense bytes")
        return None
    if len(text) < DATA_FLAG_BYTES:
        return None
    if _HEX.fullmatch(text):
        data = _decoded(lambda: binascii.unhexlify(text.removeprefix("0x")))
        return Embedded(len(text) // 2, _with_blob("hexadecimal text", data))
    if _BASE64.fullmatch(text) and entropy(text) > DENSE_ENTROPY:
        data = _decoded(lambda: base64.b64decode(text + "=" * (-len(text) % 4), validate=False))
        return Embedded(len(text) * 3 // 4, _with_blob("base64-like text", data))
    if _BASE85.fullmatch(text) and entropy(text) > DENSE_ENTROPY + 0.5:
        return Embedded(len(text) * 4 // 5, "base85-like text")
    raw = text.encode("utf-8", errors="replace")
    if _compressed_ratio(raw) > DENSE_RATIO and entropy(text) > DENSE_ENTROPY:
        return Embedded(len(raw), "dense text")
    return None


def _decoded(decode) -> bytes:
    try:
        return decode()
    except (binascii.Error, ValueError):
        return b""


def _with_blob(kind: str, data: bytes) -> str:
    blob = _blob(data)
    return f"{kind} holding a {blob} blob" if blob else kind


def _statements(tree: ast.Module) -> list[ast.AST]:
    """The units whose literals are joined: each statement at module level, and each
    statement in the body of a top-level function or class (a literal cut into many
    pieces sits in one statement, or in one function)."""
    units: list[ast.AST] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            units += node.body
        else:
            units.append(node)
    return units


def measure(source: str) -> tuple[list[Embedded], int]:
    """(the pieces of data the file's literals hold, how many numbers it writes out)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        text = "".join(source.split())
        found = judge(text)
        return ([found] if found else []), 0
    pieces: list[Embedded] = []
    numbers = 0
    for unit in _statements(tree):
        texts: list[str] = []
        blobs: list[bytes] = []
        for node in ast.walk(unit):
            if isinstance(node, ast.Constant):
                if isinstance(node.value, str):
                    texts.append(node.value)
                elif isinstance(node.value, bytes):
                    blobs.append(node.value)
                elif isinstance(node.value, int | float | complex) and not isinstance(
                    node.value, bool
                ):
                    numbers += 1
        # Pieces in an encoding's alphabet are joined (data cut into words, or into a list
        # of strings, is one piece again); any other literal is judged on its own.
        stripped = ["".join(t.split()) for t in texts]
        encoded = "".join(t for t in stripped if _TOKEN.fullmatch(t))
        others = [t for t in stripped if t and not _TOKEN.fullmatch(t)]
        for text in (encoded, b"".join(blobs), *others):
            found = judge(text)
            if found:
                pieces.append(found)
    return pieces, numbers


def flags(source: str) -> list[str]:
    """What a TA should look at in a file: embedded data, by what it holds."""
    out = []
    size = len(source.encode())
    if size > FILE_FLAG_BYTES:
        out.append(f"the file is {size / 1000:.0f} kB")
    pieces, numbers = measure(source)
    if pieces:
        total = sum(p.size for p in pieces)
        kinds = ", ".join(dict.fromkeys(p.kind for p in pieces))
        out.append(f"it embeds {total / 1000:.1f} kB of data in its literals ({kinds})")
    if numbers >= MANY_NUMBERS:
        out.append(f"it writes out {numbers:,} numbers")
    return out
