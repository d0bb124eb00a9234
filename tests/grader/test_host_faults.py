"""A fault of the host is never the student's: outside kills are platform errors, no verdict.

Only the kernel's OOM kill in the sandbox is a memory verdict (test_redteam.py's
memory tests hold that still); a runner SIGKILLed from outside, a container
killed or removed underneath, ends the grading with no verdict, and the
command line says so with exit status 2.
"""

from __future__ import annotations

import json
import secrets
import sys
from pathlib import Path

import pytest

from grader.messages import ReportStatus
from grader.sandbox import docker_ready
from grader.sandbox.local import bwrap_path
from grader.sandbox.owned import OwnedProcess
from tests.conftest import require
from tests.host_faults import act_on_container, kill_local_runner, run_and_kill

HERE = Path(__file__).resolve().parent
FIXTURE = HERE / "redteam" / "assignment"
SOLUTION = (FIXTURE / "solution" / "redteam.py").read_text()
# The instructor's solution, slowed: each call waits a while (no CPU used), so that a
# kill lands in the middle of the grading whatever the host's speed.
SLOW = SOLUTION.replace("import numpy as np", "import time\n\nimport numpy as np").replace(
    "    return ", "    time.sleep(0.8)\n    return "
)


def _require(kind: str) -> None:
    if kind == "local":
        require(bwrap_path() is not None, "bubblewrap", "apt-get install bubblewrap")
    else:
        require(
            docker_ready("numpy"),
            "Docker engine and sandbox images",
            "scripts/start_docker.sh && .venv/bin/dlgrade images build",
        )


def _cli(kind: str, submission: Path) -> list[str]:
    return [
        sys.executable, "-m", "grader.cli", "grade", str(FIXTURE), str(submission),
        "--sandbox", kind, "--json",
    ]  # fmt: skip


def _no_verdict(status: int, out: bytes, err: bytes) -> dict:
    assert status == 2, (status, out[-2000:], err[-2000:])
    report = json.loads(out)
    assert report["status"] == ReportStatus.PLATFORM_ERROR
    assert report["checks"] == [] and report["score"] == 0.0, "no verdict, not even a partial one"
    assert report["message"].startswith("no verdict: the grading host failed, not the submission")
    return report


@pytest.mark.parametrize(
    "kind",
    [
        pytest.param("local", marks=pytest.mark.bwrap),
        pytest.param("docker", marks=pytest.mark.docker),
    ],
)
def test_runner_killed_from_outside_is_no_verdict(kind: str, tmp_path: Path) -> None:
    _require(kind)
    submission = tmp_path / f"slow-{secrets.token_hex(4)}.py"
    submission.write_text(SLOW)

    def killer(proc) -> bool:  # type: ignore[no-untyped-def]
        if kind == "local":
            owned = OwnedProcess(proc)
            try:
                return kill_local_runner(owned, after_s=1.0)
            finally:
                owned.close()
        label = f"redteam:{submission.name}"
        return act_on_container(label, after_s=1.0, action=["kill", "-s", "KILL"])

    status, out, err, struck = run_and_kill(_cli(kind, submission), killer)
    assert struck, "the runner was never found running"
    report = _no_verdict(status, out, err)
    assert "killed from outside" in report["message"]


@pytest.mark.docker
def test_container_removed_underneath_is_no_verdict(tmp_path: Path) -> None:
    _require("docker")
    submission = tmp_path / f"slow-{secrets.token_hex(4)}.py"
    submission.write_text(SLOW)
    label = f"redteam:{submission.name}"
    status, out, err, struck = run_and_kill(
        _cli("docker", submission),
        lambda proc: act_on_container(label, after_s=1.0, action=["rm", "-f"]),
    )
    assert struck, "the container was never found running"
    report = _no_verdict(status, out, err)
    assert "removed" in report["message"] or "killed from outside" in report["message"]


@pytest.mark.parametrize(
    "kind",
    [
        pytest.param("local", marks=pytest.mark.bwrap),
        pytest.param("docker", marks=pytest.mark.docker),
    ],
)
def test_the_slow_solution_alone_scores_full(kind: str, tmp_path: Path) -> None:
    """The control: without the kill, the very same run is graded, and full."""
    _require(kind)
    submission = tmp_path / f"slow-{secrets.token_hex(4)}.py"
    submission.write_text(SLOW)
    status, out, err, _ = run_and_kill(_cli(kind, submission), lambda proc: True)
    assert status == 0, err[-2000:]
    report = json.loads(out)
    assert report["status"] == ReportStatus.GRADED
    assert report["score"] == report["max_score"] == 6.0  # the fixture's points, all of them
