"""Submissions on disk, content-addressed: ``<data dir>/submissions/ab/cd/<sha256>``.

A blob is written to a temporary file, flushed to disk and renamed into place,
so a reader never sees half of one and a crash leaves at worst a stray
temporary file. The same bytes submitted twice are stored once. Blobs are
read-only and never change: the name is the proof of the content.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import zipfile
from pathlib import Path

CHUNK = 1 << 20
# A fixed date for folder uploads zipped here, so the same folder gives the same bytes.
ZIP_EPOCH = (2020, 1, 1, 0, 0, 0)


class UploadTooLarge(ValueError):
    pass


def blob_path(root: Path, sha256: str) -> Path:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError(f"not a sha256 digest: {sha256!r}")
    return root / "submissions" / sha256[:2] / sha256[2:4] / sha256


def store_bytes(root: Path, data: bytes) -> tuple[str, int]:
    """Store ``data``; return (sha256, size). Idempotent."""
    digest = hashlib.sha256(data).hexdigest()
    target = blob_path(root, digest)
    if target.is_file():
        return digest, len(data)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".incoming-", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o444)
        os.replace(tmp, target)
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return digest, len(data)


def zip_folder(folder: Path) -> bytes:
    """A folder upload as one deterministic zip (sorted names, fixed dates, no links)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_symlink() or not path.is_file():
                continue
            info = zipfile.ZipInfo(path.relative_to(folder).as_posix(), ZIP_EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
    return buf.getvalue()


def read_upload(path: Path, max_bytes: int) -> tuple[bytes, str]:
    """The bytes to store for an upload and the file name to keep (a folder becomes a zip)."""
    if path.is_dir():
        data, name = zip_folder(path), path.resolve().name + ".zip"
    else:
        if path.stat().st_size > max_bytes:
            raise UploadTooLarge(f"{path.name} is larger than {max_bytes} bytes")
        data, name = path.read_bytes(), path.name
    if len(data) > max_bytes:
        raise UploadTooLarge(f"{path.name} is larger than {max_bytes} bytes")
    return data, name


def copy_verified(root: Path, sha256: str, dest: Path) -> None:
    """Copy a stored blob to ``dest``, checking that its bytes still hash to its name."""
    src = blob_path(root, sha256)
    h = hashlib.sha256()
    with open(src, "rb") as fin, open(dest, "wb") as fout:
        while chunk := fin.read(CHUNK):
            h.update(chunk)
            fout.write(chunk)
    if h.hexdigest() != sha256:
        dest.unlink(missing_ok=True)
        raise OSError(f"stored submission {src} is corrupt (its content hash changed)")
