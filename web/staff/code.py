"""A submission's files as staff read them: unpacked safely, Python highlighted on the server.

The stored upload (a .py, a .zip, any file) is opened with the grader's own
unpacker and its limits (``grader.archive``): a stored archive is still the
student's, and a zip bomb must not take the portal down. Highlighting is
Pygments', whose HTML escapes every character of the source: code is shown,
never interpreted by the browser.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer, TextLexer

from grader.archive import SubmissionError, unpack_submission
from worker.storage import load_blob

# What one page shows of a file; the zip download has everything.
MAX_SHOWN_BYTES = 512 * 1024
TEXT_SUFFIXES = (".py", ".txt", ".md", ".json", ".toml", ".cfg", ".ini", ".csv", ".yaml", ".yml")
CSS_CLASS = "code"


@dataclass(frozen=True)
class SubmittedFile:
    name: str
    size: int
    text: str | None  # None: binary, or too large to show

    @property
    def is_python(self) -> bool:
        return self.name.endswith(".py")


def read_files(conn: Any, sha256: str, filename: str) -> tuple[list[SubmittedFile], str]:
    """The submission's files, and a note when they could not all be read (for the page).

    ``conn``: the database session the stored upload is read through.
    """
    try:
        data = load_blob(conn, sha256)
    except OSError as err:
        return [], f"the stored upload cannot be read: {err}"
    with tempfile.TemporaryDirectory(prefix="dlgrade-view-") as tmp:
        src = Path(tmp) / "upload"
        src.write_bytes(data)
        if not _looks_like_zip(src):
            # A lone file, stored under its digest: shown under the name it was uploaded with.
            return [_read(src, Path(filename).name or "upload")], ""
        dest = Path(tmp) / "files"
        try:
            names = unpack_submission(src, dest)
        except SubmissionError as err:
            return [], f"the upload cannot be opened: {err}"
        return [_read(dest / n, n) for n in names], ""


def _looks_like_zip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(4) in (b"PK\x03\x04", b"PK\x05\x06")


def _read(path: Path, name: str) -> SubmittedFile:
    size = path.stat().st_size
    if size > MAX_SHOWN_BYTES or not name.lower().endswith(TEXT_SUFFIXES):
        return SubmittedFile(name, size, None)
    data = path.read_bytes()
    if b"\x00" in data:
        return SubmittedFile(name, size, None)
    return SubmittedFile(name, size, data.decode("utf-8", errors="replace"))


def highlighted(file: SubmittedFile, marked_lines: tuple[int, ...] = ()) -> Markup:
    """The file as HTML: numbered lines (anchors ``<file>-<n>``), ``marked_lines`` highlighted."""
    if file.text is None:
        return Markup("<p class='muted'>(binary or too large to show; {} bytes)</p>").format(
            file.size
        )
    lexer = PythonLexer() if file.is_python else TextLexer()
    formatter = HtmlFormatter(
        cssclass=CSS_CLASS,
        linenos="inline",
        hl_lines=list(marked_lines),
        lineanchors=_anchor(file.name),
        wrapcode=True,
    )
    # Pygments escapes the source itself; its markup is its own.
    return Markup(highlight(file.text, lexer, formatter))


def _anchor(name: str) -> str:
    return "f-" + "".join(c if c.isalnum() else "-" for c in name)[:60]


def stylesheet() -> str:
    """Pygments' colours for ``.code`` blocks (served as a static stylesheet: CSP-friendly)."""
    return HtmlFormatter(cssclass=CSS_CLASS).get_style_defs(f".{CSS_CLASS}")
