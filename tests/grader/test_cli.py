"""The dlgrade command line parses the way the README and the set-up scripts call it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
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


EXIT_PROBE = """
import atexit, io, sys, threading, time
from grader.cli import exit_without_teardown
# Buffered whatever the environment says (PYTHONUNBUFFERED): only the exit writes it out.
sys.stdout = io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, "w"), 1 << 20))
atexit.register(lambda: print("atexit ran", flush=True))
def late():
    time.sleep(0.3)
    print("thread done", flush=True)
threading.Thread(target=late).start()
sys.stdout.write("x" * 200000 + "\\n")  # buffered, unflushed: the exit must write it
exit_without_teardown(int(sys.argv[1]))
"""


def test_an_exit_without_teardown_still_does_what_an_exit_must() -> None:
    """Threads waited for, then atexit functions, then every buffered byte; the status kept."""
    done = subprocess.run(
        [sys.executable, "-c", EXIT_PROBE, "3"], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 3, done.stderr
    lines = done.stdout.splitlines()
    assert lines.index("thread done") < lines.index("atexit ran")
    assert "x" * 200000 in lines


def test_an_exit_whose_output_cannot_be_written_says_so_in_its_status() -> None:
    """stdout closed under it: status 120, as the interpreter's own exit gives, not 0."""
    probe = (
        "import io, sys\n"
        "from grader.cli import exit_without_teardown\n"
        # Buffered whatever the environment says (PYTHONUNBUFFERED): the write succeeds.
        "sys.stdout = io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, 'w'), 1 << 16))\n"
        "sys.stdout.write('a report')\n"
        "exit_without_teardown(0)\n"
    )
    read, write = os.pipe()
    os.close(read)  # nobody reads: the final flush fails (EPIPE)
    try:
        done = subprocess.run([sys.executable, "-c", probe], stdout=write, cwd=ROOT)
    finally:
        os.close(write)
    assert done.returncode == 120


def test_an_atexit_function_that_fails_is_said_and_the_exit_goes_on() -> None:
    probe = EXIT_PROBE.replace(
        'atexit.register(lambda: print("atexit ran", flush=True))',
        'atexit.register(lambda: print("atexit ran", flush=True))\natexit.register(lambda: 1 / 0)',
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, "4"], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 4
    assert "ZeroDivisionError" in done.stderr
    assert "atexit ran" in done.stdout.splitlines()
    assert "x" * 200000 in done.stdout.splitlines()


def test_dlgrade_grade_leaves_no_file_behind_and_its_report_whole() -> None:
    """The command that skips the interpreter's teardown: its JSON report arrives whole
    through a pipe, and the grading's temporary folders are gone when it has exited."""
    # Its own TMPDIR, which the sandbox's uid can reach (pytest's folders are 0700).
    tmp = Path(tempfile.mkdtemp(prefix="dlgrade-test-cli-"))
    tmp.chmod(0o755)
    solution = ROOT / "assignments" / "activations" / "solution" / "activations.py"
    done = subprocess.run(
        [sys.executable, "-m", "grader.cli", "grade", "assignments/activations", str(solution),
         "--sandbox", "local", "--json"],
        capture_output=True, text=True, cwd=ROOT, env={**os.environ, "TMPDIR": str(tmp)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["score"] == report["max_score"] > 0
    assert len(report["checks"]) == 45
    assert list(tmp.iterdir()) == []
    tmp.rmdir()
