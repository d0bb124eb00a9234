"""Uploaded assignment folders, for workers on any host: the archive is kept in the database.

An instructor's upload is unpacked on the portal's host (it reads the manifest
there) and its .zip is stored as a blob beside the submissions' (``store_blob``),
named on the upload's row. A worker that validates or grades it on another host,
or in another container, has no access to the portal's disk: ``local_folder``
finds the folder at its recorded path where it exists, and otherwise unpacks the
stored archive once into this host's cache, named by its hash (so a new version is
a new folder and an old one never changes under a grading).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine

from grader.archive import unpack_submission
from worker.models import AssignmentUpload
from worker.storage import load_blob

# Sized for an assignment folder (checks, solution, starter, mutants, a little data).
MAX_FILES = 2000
MAX_UNPACKED_BYTES = 256 * 1024 * 1024
CACHE = "assignment-cache"


class NotAnAssignment(ValueError):
    """An unpacked archive without assignment.toml at its top or in its one top folder."""


def assignment_root(unpacked: Path) -> Path:
    """The folder holding assignment.toml: the archive's top, or its one top folder."""
    if (unpacked / "assignment.toml").is_file():
        return unpacked
    tops = [p for p in unpacked.iterdir() if p.is_dir()]
    if len(tops) == 1 and (tops[0] / "assignment.toml").is_file():
        return tops[0]
    raise NotAnAssignment("the archive has no assignment.toml (at its top or in one folder)")


def unpack_assignment(archive: Path, dest: Path) -> Path:
    """Unpack an assignment folder's .zip safely (the engine's unpacker, these limits) into
    ``dest``; its root. SubmissionError or NotAnAssignment when it cannot be one."""
    unpack_submission(archive, dest, max_files=MAX_FILES, max_total_bytes=MAX_UNPACKED_BYTES)
    return assignment_root(dest)


def local_folder(engine: Engine, data_dir: Path, path: str) -> str:
    """The assignment folder recorded at ``path``, as a path on this host.

    ``path`` itself where the folder is there (a built-in, or the portal's own host);
    else the archive stored with the upload that recorded it, unpacked under
    ``data_dir``'s cache. A folder that is neither is returned as it is: loading it
    then fails with its own clear error.
    """
    if (Path(path) / "assignment.toml").is_file():
        return path
    with engine.connect() as conn:
        sha = conn.scalar(
            select(AssignmentUpload.archive_sha256)
            .where(AssignmentUpload.path == path, AssignmentUpload.archive_sha256.is_not(None))
            .order_by(AssignmentUpload.id.desc())
            .limit(1)
        )
        if sha is None:
            return path
        cached = data_dir / CACHE / sha
        if not cached.is_dir():
            cached.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{sha[:12]}-", dir=cached.parent))
            try:
                archive = staging / "assignment.zip"
                archive.write_bytes(load_blob(conn, sha))
                unpack_assignment(archive, staging / "folder")
                archive.unlink()
                # Atomic: a grading never sees half a folder; a process that lost the race
                # to unpack the same archive drops its own copy.
                with contextlib.suppress(OSError):
                    os.rename(staging, cached)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
    return str(assignment_root(cached / "folder"))
