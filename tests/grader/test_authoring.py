"""The authoring kit (issue 9): ``dlgrade assignment new`` scaffolds a folder that validates
at once, ``dlgrade assignment try`` grades a file with per-check status, points and times,
and docs/AUTHORING.md's key table and walk-through hold.

Everything goes through the command line, as an instructor uses it.
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import pytest

from grader.assignment import SCHEMA
from grader.cli import main
from grader.sandbox.local import bwrap_path
from tests.conftest import require

REPO = Path(__file__).resolve().parents[2]
AUTHORING = REPO / "docs" / "AUTHORING.md"
FENCE = re.compile(r"```(\w+)([^\n]*)\n(.*?)\n```", re.S)

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


def test_validate_names_what_the_folder_lacks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["assignment", "new", "mse-basics", "--dir", str(tmp_path)]) == 0
    root = tmp_path / "mse-basics"
    (root / "mutants" / "grad_without_mean.py").unlink()
    capsys.readouterr()
    code, out, _ = dlgrade(capsys, "assignment", "validate", str(root), "--sandbox", "local")
    assert code == 1
    assert out.splitlines() == [
        "INVALID: ",
        "  the folder has no mutants/grad_without_mean.py (see docs/AUTHORING.md, 'The folder')",
    ]


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


# -- docs/AUTHORING.md ------------------------------------------------------------------------


def _key_table_in_docs() -> str:
    text = AUTHORING.read_text()
    begin, end = "<!-- manifest-keys: begin -->\n", "\n<!-- manifest-keys: end -->"
    return text[text.index(begin) + len(begin) : text.index(end)]


def test_the_docs_key_table_is_the_schemas(capsys: pytest.CaptureFixture[str]) -> None:
    """The table in the docs is what `dlgrade assignment keys` prints from SCHEMA: a key
    added, removed, retyped or given another default without the docs fails here."""
    code, out, _ = dlgrade(capsys, "assignment", "keys")
    assert code == 0
    assert _key_table_in_docs() == out.rstrip("\n")


def test_the_docs_key_table_names_every_key_the_manifests_use() -> None:
    documented = set(re.findall(r"^\| `([a-z_.]+)` \|", _key_table_in_docs(), re.M))
    assert documented == {k.name for k in SCHEMA}
    used: set[str] = set()
    for path in [
        *REPO.glob("assignments/*/assignment.toml"),
        *REPO.glob("tests/**/assignment.toml"),
    ]:
        for key, value in tomllib.loads(path.read_text()).items():
            if key == "mutants":
                used |= {f"mutants.{k}" for entry in value for k in entry}
            elif isinstance(value, dict):
                used |= {f"{key}.{k}" for k in value}
            else:
                used.add(key)
    assert used <= documented, sorted(used - documented)


def _normalise(text: str) -> list[str]:
    """Times differ from run to run: every "1.234 s" reads "N s"."""
    return [re.sub(r"\d+(\.\d+)? s\b", "N s", line) for line in text.splitlines()]


def test_the_walk_through_builds_a_valid_assignment(local: None, tmp_path: Path) -> None:
    """Follows the walk-through literally, in a scratch copy of the repository root: each
    `file=` block is written, each bash block run, each output block compared."""
    text = AUTHORING.read_text()
    walk = text[text.index("## Walk-through") :]
    (tmp_path / ".venv").symlink_to(REPO / ".venv")
    blocks = FENCE.findall(walk)
    assert [lang for lang, _, _ in blocks].count("bash") == 3
    last = ""
    outputs = 0
    for lang, info, body in blocks:
        info = info.strip()
        if info.startswith("file="):
            path = tmp_path / info.removeprefix("file=")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(body + "\n")
        elif lang == "bash":
            run = subprocess.run(
                ["bash", "-ec", body], cwd=tmp_path, capture_output=True, text=True, timeout=600
            )
            assert run.returncode == 0, run.stdout + run.stderr
            last = run.stdout
        elif info == "output":
            assert _normalise(last) == _normalise(body)
            outputs += 1
    assert outputs == 2
    assert last.rstrip().endswith("VALID: 4 gradings agree with the manifest")
    folder = tmp_path / "assignments" / "linear-layer"
    for rel in ("assignment.toml", "checks.py", "starter/linear.py", "solution/linear.py"):
        assert (folder / rel).is_file(), rel
