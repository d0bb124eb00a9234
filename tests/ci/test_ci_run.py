"""CI's entry point: it must run the README's test command with CI=true.

With CI=true a missing service fails its tests instead of skipping them
(tests/conftest.py), so .ci/run has to set it itself rather than trust the CI
host to: a host that forgot it would pass with the serious tests skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from grader.config import REPO_ROOT


def _run_ci_with_fake_make(tmp_path: Path, env: dict[str, str]) -> str:
    """Run a copy of .ci/run whose `make` only records what it was given."""
    repo = tmp_path / "repo"
    (repo / ".ci").mkdir(parents=True)
    shutil.copy(REPO_ROOT / ".ci" / "run", repo / ".ci" / "run")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "make.txt"
    fake = bin_dir / "make"
    fake.write_text(f'#!/bin/sh\necho "CI=$CI args=$*" > {record}\n')
    fake.chmod(0o755)
    done = subprocess.run(
        ["bash", str(repo / ".ci" / "run")],
        env={**env, "PATH": f"{bin_dir}:{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    return record.read_text().strip()


def test_ci_run_sets_ci_true_even_when_the_host_does_not(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    assert _run_ci_with_fake_make(tmp_path, env) == "CI=true args=test"


def test_ci_run_overrides_a_host_that_says_ci_false(tmp_path):
    env = {**os.environ, "CI": "false"}
    assert _run_ci_with_fake_make(tmp_path, env) == "CI=true args=test"
