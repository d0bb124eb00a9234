"""Checking an upload at once, before it is stored: size, count, names, archive safety, files.

The browser sends one file, several files, or a .zip. Whatever fails here is
refused with a message for the student, and nothing is stored: the checks run
on a private temporary folder, and only an upload that passes them reaches
``worker.submit`` (which stores it content-addressed and queues it). The
archive rules are the engine's own (``grader.archive.unpack_submission``:
traversal, links, duplicates, file count, total size, compression ratio), so
the portal never accepts what the grader would reject as unsafe.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from werkzeug.datastructures import FileStorage

from grader.archive import DEFAULT_MAX_FILES, SubmissionError, unpack_submission
from grader.assignment import Assignment as AssignmentSpec
from grader.assignment import Folder
from worker.storage import ZIP_EPOCH

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MULTI_NAME = "files.zip"


class UploadRefused(ValueError):
    """The upload cannot be accepted; the message says why, for the student."""


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"


def _plain_name(name: str) -> str:
    """A file's own name as the browser sent it, refused if it is anything but a plain name."""
    shown = name[:80]
    if not name or name in (".", ".."):
        raise UploadRefused("a file has no name")
    if "/" in name or "\\" in name:
        raise UploadRefused(f"'{shown}': a file name may not contain / or \\")
    if _CONTROL.search(name):
        raise UploadRefused(f"{shown!r}: a file name may not contain control characters")
    if name.startswith("."):
        raise UploadRefused(f"'{shown}': hidden files (starting with '.') are not accepted")
    if len(name.encode("utf-8", "surrogatepass")) > 255:
        raise UploadRefused(f"'{shown}...': the file name is too long")
    return name


def _read(files: list[FileStorage], max_bytes: int) -> list[tuple[str, bytes]]:
    out: list[tuple[str, bytes]] = []
    total = 0
    for f in files:
        name = _plain_name(f.filename or "")
        data = f.stream.read(max_bytes + 1 - total)
        total += len(data)
        if total > max_bytes:
            raise UploadRefused(
                f"the upload is larger than the {_size(max_bytes)} limit; "
                "submit only your source files"
            )
        out.append((name, data))
    return out


def prepare_upload(
    files: list[FileStorage], spec: AssignmentSpec | Folder, max_bytes: int, workdir: Path
) -> Path:
    """Check the browser's files; return the one path to hand to ``worker.submit``.

    One file is kept as it is (a .py, or a .zip); several are zipped together
    under their own names. Raises UploadRefused with the reason.
    """
    files = [f for f in files if f and f.filename]
    if not files:
        raise UploadRefused("choose a file to hand in (a .py file, several files or a .zip)")
    if len(files) > DEFAULT_MAX_FILES:
        raise UploadRefused(f"{len(files)} files is more than the {DEFAULT_MAX_FILES} allowed")
    contents = _read(files, max_bytes)
    names = [name for name, _ in contents]
    if len(set(names)) != len(names):
        raise UploadRefused("two of the files have the same name")
    incoming = workdir / "incoming"
    incoming.mkdir()
    if len(contents) == 1:
        name, data = contents[0]
        upload = incoming / name
        upload.write_bytes(data)
    else:
        upload = incoming / MULTI_NAME
        with zipfile.ZipFile(upload, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in contents:
                zf.writestr(zipfile.ZipInfo(name, ZIP_EPOCH), data)
    _check_contents(upload, spec, workdir / "check")
    return upload


def _check_contents(upload: Path, spec: AssignmentSpec | Folder, dest: Path) -> None:
    """The engine's archive rules, and the files the assignment needs, on a scratch copy."""
    lone_py = upload.suffix == ".py" and len(spec.student_files) == 1
    if lone_py:
        return  # the engine names a lone .py file after the one the assignment expects
    try:
        written = unpack_submission(upload, dest)
    except SubmissionError as err:
        raise UploadRefused(str(err)) from None
    missing = [f for f in spec.student_files if f not in written]
    if missing:
        found = ", ".join(sorted(written)[:10]) or "nothing"
        raise UploadRefused(
            f"the upload has no {', '.join(missing)} (it has: {found}); "
            f"this assignment needs {', '.join(spec.student_files)}"
        )
