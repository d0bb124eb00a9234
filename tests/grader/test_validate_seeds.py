"""``dlgrade assignment validate --seeds N``: every mutant graded at N submission seeds, and
one seed that lets a mutant through a check it must fail makes the assignment INVALID."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from grader.sandbox.local import bwrap_path
from tests.conftest import require

OPTIMIZERS = Path(__file__).resolve().parents[2] / "assignments" / "optimizers"

# Wrong only where the step check's learning rate (drawn from 0.01 to 0.1 per seed) is above
# 0.05, and only on the step check's (3, 4) weights: some seeds reach it, others do not.
SOMETIMES_WRONG = """
def sgd(w, dw, config=None):
    w, dw, config = _begin(w, dw, config, learning_rate=1e-2)
    lr = config["learning_rate"]
    if w.shape == (3, 4) and lr > 0.05:
        lr = 0.9 * lr
    return w - lr * dw, config
"""


def _folder_with_one_mutant(tmp_path: Path) -> Path:
    copy = tmp_path / "optimizers"
    shutil.copytree(OPTIMIZERS, copy)
    (copy / "mutants" / "sgd_sometimes.py").write_text(SOMETIMES_WRONG)
    manifest = copy / "assignment.toml"
    text = manifest.read_text()
    head = text[: text.index("[[mutants]]")]
    manifest.write_text(
        head
        + '[[mutants]]\nfile = "mutants/sgd_sometimes.py"\n'
        + 'why = "a rate 10% short where it is above 0.05"\nfails = ["sgd_step"]\n'
    )
    assert len(tomllib.loads(manifest.read_text())["mutants"]) == 1
    return copy


def _validate(folder: Path, *extra: str) -> subprocess.CompletedProcess:
    command = ["assignment", "validate", str(folder), "--sandbox", "local", *extra]
    return subprocess.run(
        [sys.executable, "-m", "grader.cli", *command], capture_output=True, text=True, timeout=600
    )


def test_a_mutant_let_through_at_some_seeds_makes_the_assignment_invalid(tmp_path) -> None:
    require(bwrap_path() is not None, "bubblewrap", "apt-get install bubblewrap")
    folder = _folder_with_one_mutant(tmp_path)
    done = _validate(folder, "--seeds", "5")
    out = done.stdout
    assert done.returncode == 1, out + done.stderr
    assert "INVALID" in out
    # Each seed's grading is logged; the mutant scores full marks exactly where it got through.
    scores = {
        int(m.group(1) or 0): float(m.group(2))
        for m in re.finditer(r"mutant mutants/sgd_sometimes\.py(?: \(seed (\d)\))?: ([\d.]+)/", out)
    }
    assert sorted(scores) == [0, 1, 2, 3, 4]
    through = {seed for seed, score in scores.items() if score == 20.5}
    caught = {seed for seed, score in scores.items() if score == 19.5}
    assert through and caught and through | caught == set(range(5)), scores
    # One problem per seed that let it through, naming the seed and the check.
    named = {
        int(m.group(1))
        for m in re.finditer(
            r"mutant mutants/sgd_sometimes\.py at seed (\d): expected to fail \['sgd_step'\], "
            r"but failed \[\] \(let through: \['sgd_step'\]\)",
            out,
        )
    }
    assert named == through
    # The solution was graded at every seed too, full marks each time.
    for seed in range(1, 5):
        assert f"solution (seed {seed}): 20.5/20.5 (graded)" in out
