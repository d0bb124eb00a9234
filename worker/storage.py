"""Submissions' bytes, content-addressed, in the database (``SubmissionBlob``).

A blob is written in the transaction that records its submission, so a
submission never exists without its bytes nor bytes without a submission
(a rolled-back upload leaves nothing). The same bytes submitted twice are
stored once. Blobs never change: the name is the proof of the content, and
every read checks it.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from worker.models import SubmissionBlob

# A fixed date for folder uploads zipped here, so the same folder gives the same bytes.
ZIP_EPOCH = (2020, 1, 1, 0, 0, 0)


class UploadTooLarge(ValueError):
    pass


class BlobMissing(OSError):
    """A submission whose bytes are not in the store (``dlgrade fsck`` lists them)."""


class BlobCorrupt(OSError):
    """Stored bytes that no longer hash to their name."""


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def store_blob(conn: Any, data: bytes) -> tuple[str, int]:
    """Store ``data`` through ``conn`` (a Connection or Session in a transaction); (sha256, size).

    Idempotent: bytes already stored (by this transaction or another) are not written again.
    """
    digest = digest_of(data)
    if conn.scalar(select(SubmissionBlob.size).where(SubmissionBlob.sha256 == digest)) is None:
        try:
            # A savepoint: a concurrent upload of the same bytes wins the race harmlessly.
            with conn.begin_nested():
                conn.execute(
                    insert(SubmissionBlob).values(sha256=digest, size=len(data), data=data)
                )
        except IntegrityError:
            pass
    return digest, len(data)


def load_blob(conn: Any, sha256: str) -> bytes:
    """The stored bytes named ``sha256``, checked against their name.

    Raises BlobMissing or BlobCorrupt (both OSError: a worker retries, a page says so).
    """
    data = conn.scalar(select(SubmissionBlob.data).where(SubmissionBlob.sha256 == sha256))
    if data is None:
        raise BlobMissing(f"stored submission {sha256} is missing from the database")
    data = bytes(data)
    if digest_of(data) != sha256:
        raise BlobCorrupt(f"stored submission {sha256} is corrupt (its content hash changed)")
    return data


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
