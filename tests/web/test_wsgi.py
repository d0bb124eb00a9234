"""The portal as a WSGI server loads it (``gunicorn web.wsgi:app``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_served_portal_keeps_its_start_out_of_the_collectors_way(tmp_path: Path) -> None:
    """What the process made to start (the app, Flask, SQLAlchemy, templates) is frozen:
    a collection during a request does not scan it again."""
    probe = "import gc, web.wsgi; print(gc.get_freeze_count(), web.wsgi.app.name)"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DLGRADE_")}
    env.update(DLGRADE_DATA_DIR=str(tmp_path), DLGRADE_SECRET_KEY="test")
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, env=env
    )
    assert done.returncode == 0, done.stderr
    frozen, name = done.stdout.split()
    assert name == "web"
    assert int(frozen) > 10_000  # the app's import alone makes far more objects than this
