"""The dlgrade command line parses the way the README and the set-up scripts call it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from grader.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]


def test_images_build_passes_its_options_on() -> None:
    args = build_parser().parse_args(["images", "build", "--env", "numpy", "--force"])
    assert args.action == "build"
    assert args.rest == ["--env", "numpy", "--force"]


def test_grade_defaults() -> None:
    args = build_parser().parse_args(["grade", "assignments/activations", "hw.py"])
    assert (args.sandbox, args.seed, args.json, args.student_view) == (None, 0, False, False)


def test_an_engine_command_imports_nothing_above_the_engine() -> None:
    """``dlgrade grade`` neither imports the portal (Flask) nor the worker (Celery)."""
    probe = (
        "import sys\n"
        "from grader.cli import build_parser\n"
        "build_parser(['grade', 'a', 'b']).parse_args(['grade', 'a', 'b'])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('web', 'worker', 'flask', 'celery', 'sqlalchemy')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert done.stdout.strip() == "[]", done.stdout


def test_the_other_commands_are_still_there() -> None:
    args = build_parser(["submit"]).parse_args(["portal", "serve"])
    assert args.command == "portal"
    args = build_parser(["--help"]).parse_args(["status", "1"])
    assert args.command == "status"
