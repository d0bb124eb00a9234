"""A fault of the host is never the student's: outside kills are platform errors, no verdict.

Only the kernel's OOM kill in the sandbox is a memory verdict (test_redteam.py's
memory tests hold that still); a runner SIGKILLed from outside, a container
killed or removed underneath, ends the grading with no verdict, and the
command line says so with exit status 2.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from pathlib import Path

import pytest

from grader.assignment import load_assignment
from grader.engine import grade
from grader.messages import CheckStatus, ReportStatus
from grader.sandbox import docker_ready
from grader.sandbox.base import Sandbox, SandboxSpec
from grader.sandbox.local import bwrap_path
from grader.sandbox.owned import OwnedProcess
from grader.session import (
    START_LIMIT_S,
    STARVED_BACKSTOP_FACTOR,
    WALL_BACKSTOP_FACTOR,
    CallClock,
    PlatformFault,
    StudentError,
)
from tests.conftest import require
from tests.host_faults import act_on_container, busy_loops, kill_local_runner, run_and_kill

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


ACTIVATIONS = HERE.parent.parent / "assignments" / "activations"


@pytest.mark.parametrize(
    "kind",
    [
        pytest.param("local", marks=pytest.mark.bwrap),
        pytest.param("docker", marks=pytest.mark.docker),
    ],
)
def test_a_correct_homework_scores_full_on_a_busy_host(kind: str) -> None:
    """Three busy loops per core beside the grading: it takes longer, and loses nothing."""
    _require(kind)
    assignment = load_assignment(ACTIVATIONS)
    with busy_loops(3) as loops:
        assert loops == 3 * (os.cpu_count() or 1)
        report = grade(assignment, ACTIVATIONS / "solution" / "activations.py", sandbox=kind)
    assert report.status == ReportStatus.GRADED, report.message
    assert report.score == report.max_score, [
        (c.name, c.status, c.message) for c in report.checks if c.score < c.max_score
    ]
    assert report.environment["time_limits"].startswith("CPU time")


class _Meter(Sandbox):
    """A sandbox whose CPU and waiting times the test sets (the clock's view of a cgroup)."""

    measures_cpu = True

    def __init__(self) -> None:
        super().__init__(SandboxSpec(root=Path("/nonexistent")))
        self.cpu: float | None = 0.0
        self.waiting: float | None = 0.0

    def start(self, argv):  # type: ignore[no-untyped-def]
        raise AssertionError("not started")

    def kill(self) -> None:
        pass

    def cpu_seconds(self) -> float | None:
        return self.cpu

    def waiting_seconds(self) -> float | None:
        return self.waiting


def _after(clock: CallClock, wall: float) -> None:
    """As if ``wall`` seconds had passed since the call began."""
    clock.t0 -= wall
    clock.created -= wall


def test_the_call_clock_counts_cpu_and_tells_asleep_from_starved() -> None:
    box = _Meter()
    limit = 2.0  # CPU seconds on its one core
    busy = CallClock(box, limit)
    box.cpu = 1.9
    _after(busy, 3.0)
    assert busy.over() is None, "under its CPU limit, whatever the wall time"
    box.cpu = 2.0
    over = busy.over()
    assert isinstance(over, StudentError) and over.status == CheckStatus.TIMEOUT
    assert over.message == "took longer than the 2 s limit (2.0 s of CPU time)"

    box.cpu, box.waiting = 0.0, 0.0
    asleep = CallClock(box, limit)
    _after(asleep, limit * WALL_BACKSTOP_FACTOR - 0.5)
    assert asleep.over() is None, "before the backstop"
    _after(asleep, 0.5)
    over = asleep.over()
    assert isinstance(over, StudentError) and over.status == CheckStatus.TIMEOUT
    assert "still running after 8 s of wall time, having used 0.0 s of CPU" in over.message

    starved = CallClock(box, limit)
    _after(starved, 0.25)
    assert starved.over() is None, "its first look at the clock, a poll after it began"
    box.cpu, box.waiting = 0.5, 7.0  # 7 of its 7.5 s off a CPU since then spent waiting for one
    _after(starved, limit * WALL_BACKSTOP_FACTOR)
    assert starved.over() is None, "starved at the backstop: more time to reach a verdict"
    _after(starved, limit * (STARVED_BACKSTOP_FACTOR - WALL_BACKSTOP_FACTOR))
    box.waiting = 23.0
    assert isinstance(starved.over(), PlatformFault), "still starved: the host's fault"
    assert starved.spent() == 0.5, "the total limit is charged its CPU time only"


def test_without_cpu_accounting_the_limit_is_wall_clock() -> None:
    box = _Meter()
    box.measures_cpu = False
    clock = CallClock(box, 2.0)
    _after(clock, 1.9)
    assert clock.over() is None
    _after(clock, 0.1)
    over = clock.over()
    assert isinstance(over, StudentError) and over.message == "took longer than the 2 s limit"


def test_where_containers_cgroups_are_not_visible_docker_is_timed_by_the_wall_clock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another cgroup driver or namespace: no CPU meter, so wall-clock limits, said so."""
    from grader.sandbox import docker as docker_backend

    monkeypatch.setattr(docker_backend, "container_cgroups_visible", lambda: False)
    box = docker_backend.DockerSandbox(SandboxSpec(root=tmp_path))
    assert not box.measures_cpu
    assert box.why_wall_clock == "the containers' cgroups are not visible here"
    clock = CallClock(box, 2.0)
    _after(clock, 2.0)
    over = clock.over()
    assert isinstance(over, StudentError) and over.message == "took longer than the 2 s limit"


def test_a_container_not_yet_or_no_longer_there_is_not_timed_yet(tmp_path: Path) -> None:
    """Before its cgroup exists (a slow engine) or after it exited, no CPU is charged."""
    from grader.sandbox.docker import DockerSandbox

    box = DockerSandbox(SandboxSpec(root=tmp_path))
    box.measures_cpu = True  # as on a host where containers' cgroups are visible
    box.latest_cid = tmp_path / "gone.cid"
    box.latest_cid.write_text("0" * 64)  # created, as docker run says, but not (or no more) there
    assert box.cpu_seconds() is None
    clock = CallClock(box, 2.0)
    _after(clock, 60.0)
    assert clock.over() is None, "still starting: its exit, if it exited, ends the call"
    _after(clock, START_LIMIT_S)
    assert isinstance(clock.over(), PlatformFault), "a sandbox that never starts is the host's"


def test_a_grading_holds_when_the_grader_has_many_descriptors_open(many_descriptors) -> None:
    """Every descriptor the grading opens now numbers above 1024 (select() refused those)."""
    from grader.sandbox.owned import wait_fd

    r, w = os.pipe()
    try:
        assert min(r, w) > 1024
        assert not wait_fd(r, 0.05)  # nothing written yet: not readable
        assert wait_fd(w, 0.05, write=True)
        os.write(w, b"x")
        assert wait_fd(r, 0.05)
    finally:
        os.close(r)
        os.close(w)
    report = grade(load_assignment(FIXTURE), FIXTURE / "solution" / "redteam.py", sandbox="local")
    assert report.status == ReportStatus.GRADED, report
    assert report.score == report.max_score
