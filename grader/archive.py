"""Turning an upload into a folder of student files, safely.

An upload is a single file, a folder, or a zip archive. Everything about it is
checked before the first byte is written: names that could escape the folder,
links and special files, duplicates, encryption, the number of files, the
declared size and the compression ratio (zip bombs). Extraction then streams
every entry under a real byte cap, because a zip header may lie about sizes.
Any violation removes what was written and raises ``SubmissionError``, whose
message is meant for the student: it names the entry and the limit.

macOS and Python litter (``__MACOSX/``, ``.DS_Store``, ``__pycache__/``,
``*.pyc``) is skipped, not refused. When every file of a zip lives under one
top-level folder (the student zipped their folder), that folder is stripped.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

DEFAULT_MAX_FILES = 200
DEFAULT_MAX_TOTAL_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_RATIO = 100.0
# Tiny files compress absurdly well (1 KiB of spaces deflates to 11 bytes,
# 93:1); the ratio check only looks at entries, and archives, larger than this.
RATIO_MIN_BYTES = 1024
MAX_NAME_BYTES = 255
MAX_PATH_BYTES = 1024
_CHUNK = 1 << 16
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_FLAG_ENCRYPTED = 0x1
_FLAG_UTF8 = 0x800
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Errors the zip library raises on damaged or hostile archives. Errors from
# writing into dest are ours, not the student's, and are never caught as these.
_ZIP_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
    RuntimeError,
)
try:
    import lzma

    _ZIP_ERRORS += (lzma.LZMAError,)
except ImportError:  # pragma: no cover  (Python built without lzma)
    pass


class SubmissionError(ValueError):
    """The upload cannot be used; the message tells the student why."""


@dataclass(frozen=True)
class _Limits:
    max_files: int
    max_total_bytes: int
    max_ratio: float


@dataclass(frozen=True)
class _Member:
    """One file to write: where it goes and where its bytes come from."""

    parts: tuple[str, ...]
    size: int
    source: zipfile.ZipInfo | Path
    shown: str  # the name as the student wrote it, for messages

    @property
    def rel(self) -> str:
        return "/".join(self.parts)


def unpack_submission(
    src: Path,
    dest: Path,
    *,
    max_files: int = DEFAULT_MAX_FILES,
    max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES,
    max_ratio: float = DEFAULT_MAX_RATIO,
) -> list[str]:
    """Write the student files of ``src`` into ``dest``; return their relative paths, sorted.

    ``src`` is a single file (copied under its own name), a folder (copied
    recursively) or a zip archive (recognised by its content, whatever its
    name). ``dest`` must be empty or not exist (FileExistsError otherwise).

    Raises SubmissionError, with a message for the student, when the upload
    breaks a rule or a limit; ``dest`` is then left empty (or absent, if it
    did not exist) and nothing is written anywhere else.
    """
    src, dest = Path(src), Path(dest)
    limits = _Limits(max_files, max_total_bytes, max_ratio)
    existed = dest.exists()
    if existed and (not dest.is_dir() or any(dest.iterdir())):
        raise FileExistsError(f"{dest} must be an empty folder or not exist")

    if src.is_symlink():
        raise SubmissionError(f"'{src.name}' is a symbolic link; upload the file itself")
    if src.is_dir():
        members = _plan_folder(src, limits)
        return _write(dest, existed, members, limits, _open_path)
    if not src.is_file():
        raise SubmissionError(f"'{src.name}' is not a regular file")
    if _looks_like_zip(src):
        with _open_zip(src) as archive:
            members = _plan_zip(archive, limits)

            def open_entry(member: _Member) -> BinaryIO:
                return archive.open(member.source)  # type: ignore[arg-type]

            return _write(dest, existed, members, limits, open_entry)
    parts = _clean_name(src.name)
    size = src.stat().st_size
    _check_total(size, limits, f"'{src.name}' is")
    return _write(dest, existed, [_Member(parts, size, src, src.name)], limits, _open_path)


# ---------------------------------------------------------------------------
# Names


def _clean_name(name: str) -> tuple[str, ...]:
    """The safe path components of an entry name, or SubmissionError."""
    if not name:
        raise SubmissionError("an entry has an empty name")
    try:
        encoded = name.encode("utf-8")
    except UnicodeEncodeError:
        shown = name.encode("utf-8", "surrogateescape")
        raise SubmissionError(
            f"entry {shown!r} has a name that is not valid UTF-8; rename it using plain letters"
        ) from None
    if _CONTROL.search(name):
        raise SubmissionError(f"entry {name!r} has control characters in its name")
    if "\\" in name:
        raise SubmissionError(
            f"entry {name!r} uses backslashes in its name; zip your folder with a tool that"
            " writes '/' between folders"
        )
    if name.startswith("/") or _DRIVE.match(name):
        raise SubmissionError(f"entry '{name}' is an absolute path; zip relative paths only")
    parts = tuple(p for p in name.split("/") if p not in ("", "."))
    if ".." in parts:
        raise SubmissionError(f"entry '{name}' escapes the submission folder")
    if not parts:
        raise SubmissionError(f"entry '{name}' has no file name")
    if len(encoded) > MAX_PATH_BYTES or any(len(p.encode()) > MAX_NAME_BYTES for p in parts):
        raise SubmissionError(f"entry '{name[:80]}...' has a name that is too long")
    return parts


def _is_junk(parts: tuple[str, ...]) -> bool:
    return (
        parts[0] == "__MACOSX"
        or "__pycache__" in parts
        or parts[-1] == ".DS_Store"
        or parts[-1].endswith(".pyc")
    )


def _size(n: float) -> str:
    if n < 1024:
        return f"{int(n)} bytes"
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        n /= 1024
        if n < 1024 or unit == "TiB":
            return f"{n:.1f} {unit}".replace(".0 ", " ")
    raise AssertionError("unreachable")


def _check_total(total: int, limits: _Limits, what: str) -> None:
    """``what`` starts the message: "the archive expands to", "'notes.txt' is"."""
    if total > limits.max_total_bytes:
        raise SubmissionError(
            f"{what} {_size(total)}, over the {_size(limits.max_total_bytes)} limit"
        )


def _check_count(count: int, limits: _Limits) -> None:
    if count > limits.max_files:
        raise SubmissionError(
            f"the submission has more than {limits.max_files} files; submit only your source files"
        )


def _check_conflicts(members: list[_Member]) -> None:
    """Refuse a path used both as a file and as a folder ('a' and 'a/b.py')."""
    folders = {m.parts[:i] for m in members for i in range(1, len(m.parts))}
    for m in members:
        if m.parts in folders:
            raise SubmissionError(f"'{m.shown}' is both a file and a folder in the submission")


# ---------------------------------------------------------------------------
# Planning: every check, before anything is written


def _looks_like_zip(src: Path) -> bool:
    # By content; the name and the leading signature only catch damaged zips,
    # which deserve "not a readable zip" rather than being copied as a file.
    if zipfile.is_zipfile(src):
        return True
    with open(src, "rb") as f:
        head = f.read(4)
    return head in _ZIP_MAGICS or src.suffix.lower() == ".zip"


def _open_zip(src: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(src)
    except UnicodeDecodeError:
        raise SubmissionError(
            f"'{src.name}' has an entry whose name is not valid UTF-8; rename it using plain"
            " letters"
        ) from None
    except _ZIP_ERRORS as exc:
        raise SubmissionError(
            f"'{src.name}' is not a readable zip archive ({exc}); zip your files again"
        ) from None


def _entry_name(info: zipfile.ZipInfo) -> str:
    if info.flag_bits & _FLAG_UTF8:
        return info.orig_filename  # the zip library already decoded it as UTF-8
    # Without the UTF-8 flag the library decodes cp437; most tools write UTF-8
    # regardless, so recover the raw bytes and insist on UTF-8.
    raw = info.orig_filename.encode("cp437")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SubmissionError(
            f"entry {raw!r} has a name that is not valid UTF-8; rename it using plain letters"
        ) from None


def _plan_zip(archive: zipfile.ZipFile, limits: _Limits) -> list[_Member]:
    members: list[_Member] = []
    seen: set[tuple[str, ...]] = set()
    for info in archive.infolist():
        name = _entry_name(info)
        parts = _clean_name(name)
        mode = info.external_attr >> 16
        kind = stat.S_IFMT(mode)
        if stat.S_ISLNK(mode):
            raise SubmissionError(f"entry '{name}' is a symbolic link; zip the file itself")
        if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
            raise SubmissionError(f"entry '{name}' is not a regular file")
        if info.flag_bits & _FLAG_ENCRYPTED:
            raise SubmissionError(f"entry '{name}' is encrypted; zip it without a password")
        if info.is_dir() or kind == stat.S_IFDIR:
            continue
        if parts in seen:
            raise SubmissionError(f"entry '{name}' appears twice in the archive")
        seen.add(parts)
        if _is_junk(parts):
            continue
        members.append(_Member(parts, info.file_size, info, name))
        _check_count(len(members), limits)

    if not members:
        raise SubmissionError("the archive holds no files")
    _check_conflicts(members)
    total = sum(m.size for m in members)
    _check_total(total, limits, "the archive expands to")
    packed = 0
    for m in members:
        info = m.source
        assert isinstance(info, zipfile.ZipInfo)
        packed += info.compress_size
        if m.size > RATIO_MIN_BYTES and m.size > limits.max_ratio * info.compress_size:
            raise SubmissionError(
                f"entry '{m.shown}' expands from {_size(info.compress_size)} to"
                f" {_size(m.size)}, more than {limits.max_ratio:g} times (a zip bomb?)"
            )
    if total > RATIO_MIN_BYTES and total > limits.max_ratio * packed:
        raise SubmissionError(
            f"the archive expands from {_size(packed)} to {_size(total)}, more than"
            f" {limits.max_ratio:g} times (a zip bomb?)"
        )

    top = {m.parts[0] for m in members}
    if len(top) == 1 and all(len(m.parts) > 1 for m in members):
        members = [_Member(m.parts[1:], m.size, m.source, m.shown) for m in members]
    return members


def _plan_folder(root: Path, limits: _Limits) -> list[_Member]:
    members: list[_Member] = []
    total = 0
    stack: list[tuple[Path, tuple[str, ...]]] = [(root, ())]
    while stack:
        folder, prefix = stack.pop()
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
        for entry in entries:
            shown = "/".join((*prefix, entry.name))
            parts = (*prefix, *_clean_name(entry.name))
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISLNK(st.st_mode):
                raise SubmissionError(f"'{shown}' is a symbolic link; submit the file itself")
            if stat.S_ISDIR(st.st_mode):
                if not _is_junk(parts):
                    stack.append((Path(entry.path), parts))
            elif stat.S_ISREG(st.st_mode):
                if _is_junk(parts):
                    continue
                members.append(_Member(parts, st.st_size, Path(entry.path), shown))
                _check_count(len(members), limits)
                total += st.st_size
                _check_total(total, limits, "the submitted folder holds")
            else:
                raise SubmissionError(f"'{shown}' is not a regular file")
    if not members:
        raise SubmissionError("the submitted folder holds no files")
    return members


# ---------------------------------------------------------------------------
# Writing


def _open_path(member: _Member) -> BinaryIO:
    assert isinstance(member.source, Path)
    # O_NOFOLLOW: a file swapped for a link after planning is still refused.
    fd = os.open(member.source, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise SubmissionError(f"'{member.shown}' is not a regular file")
    return os.fdopen(fd, "rb")


def _chunks(source: BinaryIO, shown: str) -> Iterator[bytes]:
    while True:
        try:
            chunk = source.read(_CHUNK)
        except _ZIP_ERRORS as exc:
            raise SubmissionError(f"entry '{shown}' is damaged ({exc}); zip it again") from None
        if not chunk:
            return
        yield chunk


def _grew(m: _Member) -> str:
    if isinstance(m.source, zipfile.ZipInfo):
        return f"entry '{m.shown}' holds more than the {_size(m.size)} its header declares"
    return f"'{m.shown}' grew while it was being copied"


def _write(
    dest: Path,
    existed: bool,
    members: list[_Member],
    limits: _Limits,
    open_source: Callable[[_Member], BinaryIO],
) -> list[str]:
    dest.mkdir(parents=True, exist_ok=True)
    written_total = 0
    try:
        for m in members:
            target = dest.joinpath(*m.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                source = open_source(m)
            except SubmissionError:
                raise
            except _ZIP_ERRORS as exc:
                raise SubmissionError(f"entry '{m.shown}' cannot be read ({exc})") from None
            with source:
                fd = os.open(target, _CREATE_FLAGS, 0o644)
                with os.fdopen(fd, "wb") as out:
                    written = 0
                    for chunk in _chunks(source, m.shown):
                        written += len(chunk)
                        written_total += len(chunk)
                        # The header's size is a claim; these caps are facts.
                        if written > m.size:
                            raise SubmissionError(_grew(m))
                        _check_total(written_total, limits, "the submission expands to")
                        out.write(chunk)
            if written < m.size and isinstance(m.source, zipfile.ZipInfo):
                raise SubmissionError(
                    f"entry '{m.shown}' holds less than the {_size(m.size)} its header declares"
                )
    except BaseException:
        _clear(dest, existed)
        raise
    return sorted(m.rel for m in members)


def _clear(dest: Path, existed: bool) -> None:
    if not existed:
        shutil.rmtree(dest, ignore_errors=True)
        return
    for child in dest.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
