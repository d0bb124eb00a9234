"""Where dlgrade keeps its files, from the environment with embedded defaults."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    """DLGRADE_DATA_DIR, else ``.data`` in the repository (submissions, caches, environments)."""
    path = Path(os.environ.get("DLGRADE_DATA_DIR") or REPO_ROOT / ".data")
    path.mkdir(parents=True, exist_ok=True)
    return path
