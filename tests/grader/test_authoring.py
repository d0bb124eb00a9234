"""The authoring kit (issue 9): ``dlgrade assignment new`` scaffolds a folder that validates
at once, ``dlgrade assignment try`` grades a file with per-check status, points and times,
and docs/AUTHORING.md's key table and walk-through hold.

Everything goes through the command line, as an instructor uses it.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from grader.cli import main
from grader.sandbox.local import bwrap_path
from tests.conftest import require

REPO = Path(__file__).resolve().parents[2]

WRONG_GRADIENT = """\
import numpy as np


def mse(pred, target):
    return float(np.mean((np.asarray(pred) - np.asarray(target)) ** 2))


def mse_grad(pred, target):
    return 2 * (np.asarray(pred) - np.asarray(target))  # the sum's gradient: no 1/N
"""


@pytest.fixture
def local() -> None:
    require(bwrap_path() is not None, "bubblewrap", "apt-get install bubblewrap")


def dlgrade(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# -- assignment new -----------------------------------------------------------------------------


def test_new_scaffolds_a_folder_that_validates_at_once(
    local: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = dlgrade(capsys, "assignment", "new", "mse-basics", "--dir", str(tmp_path))
    assert code == 0
    root = tmp_path / "mse-basics"
    assert f"created {root}" in out
    for rel in (
        "assignment.toml",
        "checks.py",
        "starter/mse_basics.py",
        "solution/mse_basics.py",
        "mutants/grad_without_mean.py",
    ):
        assert (root / rel).is_file(), rel
    manifest = tomllib.loads((root / "assignment.toml").read_text())
    assert manifest["slug"] == "mse-basics"
    assert manifest["submission"]["files"] == ["mse_basics.py"]
    code, out, _ = dlgrade(capsys, "assignment", "validate", str(root), "--sandbox", "local")
    assert code == 0, out
    assert "  solution: 4/4 (graded)" in out
    assert "  starter: 0/4 (graded)" in out
    # The mutant's 1/N is missing: it loses mse_grad (2) and the hidden other_shapes (1).
    assert "  mutant mutants/grad_without_mean.py: 1/4 (graded)" in out
    assert out.rstrip().endswith("VALID: 4 gradings agree with the manifest")


@pytest.mark.parametrize("slug", ["My-Topic", "2-layers", "a_b", "ends-", "a/b", ""])
def test_new_refuses_a_slug_that_is_not_hyphenated_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], slug: str
) -> None:
    code, _, err = dlgrade(capsys, "assignment", "new", slug, "--dir", str(tmp_path))
    assert code == 2
    assert f"not {slug!r}" in err
    assert list(tmp_path.iterdir()) == []


def test_new_never_overwrites_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    code, _, err = dlgrade(capsys, "assignment", "new", "taken", "--dir", str(tmp_path))
    assert code == 2 and "exists" in err
    assert [p.name for p in (tmp_path / "taken").iterdir()] == ["notes.txt"]


# -- assignment try -----------------------------------------------------------------------------


def test_try_prints_each_checks_status_points_and_time(
    local: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["assignment", "new", "mse-basics", "--dir", str(tmp_path)]) == 0
    capsys.readouterr()
    file = tmp_path / "attempt.py"
    file.write_text(WRONG_GRADIENT)
    root = tmp_path / "mse-basics"
    code, out, _ = dlgrade(capsys, "assignment", "try", str(root), str(file), "--sandbox", "local")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"trying {file} against mse-basics (seed 0)"
    seconds = r"\s+\d+\.\d{3} s  "
    assert re.fullmatch(r"  passed\s+1/1" + seconds + "mse", lines[1])
    assert re.fullmatch(r"  failed\s+0/2" + seconds + "mse_grad", lines[2])
    # The failing check's whole message, indented beneath it: where and by how much.
    assert lines[3].startswith("      mse_grad(pred, target): 20 of 20 values differ; worst at")
    assert lines[4].startswith("      mse_grad vs finite differences: 20 of 20 values differ")
    assert re.fullmatch(r"  failed\s+0/1" + seconds + r"other_shapes \(hidden\)", lines[5])
    assert lines[6].startswith("      mse_grad on a (")
    assert re.match(r"score 1/4 \(graded\); checks \d+\.\d{3} s, grading \d+(\.\d+)? s", lines[7])


def test_try_refuses_a_broken_assignment_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["assignment", "new", "mse-basics", "--dir", str(tmp_path)]) == 0
    manifest = tmp_path / "mse-basics" / "assignment.toml"
    manifest.write_text(manifest.read_text().replace('queue = "cpu"', 'queue = "fast"'))
    capsys.readouterr()
    code, _, err = dlgrade(
        capsys, "assignment", "try", str(manifest.parent), str(manifest), "--sandbox", "local"
    )
    assert code == 2
    assert "'queue' must be one of 'cpu', 'gpu', not 'fast'" in err
