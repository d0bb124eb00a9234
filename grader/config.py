"""Where dlgrade keeps its files, and its secret key: from the environment, else defaults."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY_FILE = "secret.key"


def data_dir() -> Path:
    """DLGRADE_DATA_DIR, else ``.data`` in the repository (submissions, caches, environments)."""
    path = Path(os.environ.get("DLGRADE_DATA_DIR") or REPO_ROOT / ".data")
    path.mkdir(parents=True, exist_ok=True)
    return path


def secret_key() -> bytes:
    """The service's secret: DLGRADE_SECRET_KEY, else a key file made (0600) on first use.

    It keys the hidden checks' seeds, so it must never reach a sandbox: it is
    neither in the sandbox's environment (cleared) nor under any folder mounted
    there. Every worker that grades the same course should share one key, so a
    regrade on another host draws the same hidden inputs.
    """
    env = os.environ.get("DLGRADE_SECRET_KEY")
    if env:
        return env.encode()
    path = data_dir() / SECRET_KEY_FILE
    if not path.exists():
        _create_key_file(path)
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        # As ssh does with a private key: a key others can read is no secret.
        raise PermissionError(f"{path} is readable by others (mode {oct(mode & 0o777)}); chmod 600")
    key = path.read_bytes().strip()
    if not key:
        raise ValueError(f"{path} is empty; delete it to make a new key")
    return key


def _create_key_file(path: Path) -> None:
    """Write a fresh key under a private name, then link it into place: never half a key."""
    tmp = path.with_name(f".{SECRET_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        # link() fails if another worker got there first: theirs wins, both read it.
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
