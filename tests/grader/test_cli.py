"""The dlgrade command line parses the way the README and the set-up scripts call it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

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


def _modules_after(code: str) -> set[str]:
    probe = f"import sys\n{code}\nprint(' '.join(sorted(sys.modules)))\n"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return set(done.stdout.split())


def test_a_grading_start_does_not_scan_the_installed_distributions() -> None:
    """What a local grading imports before its first check: no metadata scan, no network code."""
    loaded = _modules_after(
        "import grader.cli, grader.engine, grader.sandbox.local\n"
        "from grader.sandbox.images import requirements\n"
        "requirements('numpy'); grader.engine._versions()"
    )
    assert {"importlib.metadata", "urllib.request", "email"}.isdisjoint(loaded)


def test_the_report_names_the_trusted_sides_torch_where_its_checks_use_it() -> None:
    pytest.importorskip("torch")
    code = "import json, grader.engine{}; print(json.dumps(grader.engine._versions()))"
    without = [sys.executable, "-c", code.format("")]
    with_torch = [sys.executable, "-c", code.format(", torch")]
    versions = [
        json.loads(subprocess.run(argv, capture_output=True, check=True, cwd=ROOT).stdout)
        for argv in (without, with_torch)
    ]
    import torch

    assert "torch" not in versions[0]
    assert versions[1]["torch"] == str(torch.__version__)
    assert versions[1]["numpy"] == versions[0]["numpy"] == np.__version__


def test_validate_takes_a_number_of_seeds() -> None:
    args = build_parser().parse_args(["assignment", "validate", "assignments/losses"])
    assert args.seeds == 1
    args = build_parser().parse_args(["assignment", "validate", "a", "--seeds", "5"])
    assert args.seeds == 5


@pytest.mark.parametrize("seeds", ["0", "-2", "five"])
def test_validate_refuses_a_number_of_seeds_below_one(seeds: str, capsys) -> None:
    with pytest.raises(SystemExit) as err:
        build_parser().parse_args(["assignment", "validate", "a", "--seeds", seeds])
    assert err.value.code == 2
    assert "--seeds" in capsys.readouterr().err
