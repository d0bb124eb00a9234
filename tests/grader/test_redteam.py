"""Red-team tests: hostile submissions against the whole grader, in every sandbox.

Each attack in tests/grader/redteam/attacks/ is a submission to the tiny fixture
assignment in tests/grader/redteam/assignment/ (square, add, center, total, and
a hidden square; 6 points; limits of 3 s per call, 256 MB, 32 processes, a
16 MiB tmpfs, 8 KiB of output). Every test asserts the exact score and each
check's status and message, and every grading is followed by the same host
inspection (``Host.assert_untouched``): no process the grading started is still
running, no planted file exists outside the sandbox, the test's network
listener saw nothing, and the secrets planted in this process's environment
appear nowhere in the report.

Attack files hold ``@@NAME@@`` placeholders for host facts (the repository's
path, the listener's port, ...) that a determined student could learn or
guess; ``attack()`` fills them in. The hostile archives and the unloadable
sources (a syntax error, Latin-1 bytes, an empty file) are built here, where
their bytes can be read.

Sandboxes: "local" needs bubblewrap (without it the local sandbox is only
rlimits and says it is no boundary), "docker" needs the engine and the images;
"docker-pool" grades as a worker with a warm pool does, in a container that was
started and waiting before the submission existed; "local-pool" likewise in a
bubblewrap sandbox from a worker's local pool (grader/sandbox/local_pool.py).
"""

from __future__ import annotations

import inspect
import io
import json
import os
import re
import secrets
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from grader.assignment import Assignment, load_assignment
from grader.engine import grade, prepare_root
from grader.messages import CheckStatus, GradeReport, ReportStatus
from grader.report import render_text
from grader.sandbox import SandboxSpec, docker_ready, make_sandbox
from grader.sandbox import pool as pools
from grader.sandbox.cgroups import cgroups_available
from grader.sandbox.local import bwrap_path
from grader.sandbox.local_pool import LocalPool
from grader.sandbox.pool import ContainerPool
from grader.session import (
    STARVED_BACKSTOP_FACTOR,
    WALL_BACKSTOP_FACTOR,
    RunnerSession,
    StudentError,
)
from tests.conftest import require

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
FIXTURE = HERE / "redteam" / "assignment"
ATTACKS = HERE / "redteam" / "attacks"

MAX_SCORE = 6.0
CALL_SECONDS = 3.0
# A call's limit is CPU time; one that sleeps or blocks is ended by the wall-clock backstop.
BACKSTOP_SECONDS = CALL_SECONDS * WALL_BACKSTOP_FACTOR
# A CPU-bound call starved by a busy host is given this long to use its CPU time.
STARVED_SECONDS = CALL_SECONDS * STARVED_BACKSTOP_FACTOR
TMPFS_MIB = 16
OUTPUT_BYTES = 8 * 1024
PIDS = 32
# Strings that live only on the trusted side: in checks.py and in the solution.
FIXTURE_SECRETS = ("dlgrade-redteam-secret-checks-8c41f0", "dlgrade-redteam-secret-solution-27d9e3")
# Planted in this process's environment before every grading (the service's secrets).
ENV_SECRETS = {
    "DLGRADE_SECRET_TOKEN": "tok-redteam-3f9a1c7e5b",
    "DATABASE_URL": "postgresql://grader:pw-redteam-77d2e0@db.internal:5432/dlgrade",
}
# Command-line markers of the processes that attacks leave behind (see the attack files),
# made unique to this test run so that a concurrent run's processes are not counted.
RUN_ID = secrets.token_hex(4)
PROCESS_MARKERS = {
    "daemon": f"dlgrade-redteam-daemon-{RUN_ID}",
    "forkbomb": f"dlgrade-redteam-forkbomb-{RUN_ID}",
}
ESCAPED_NAMES = (
    "dlgrade-redteam-escaped-write",
    "dlgrade-redteam-escaped-write-via-symlink",
    "dlgrade-redteam-results.json",
    "dlgrade-redteam-reduce-ran",
    "dlgrade-redteam-zipslip.py",
    "dlgrade-redteam-zipslip-abs.py",
)
# No attack here costs more than one call's time limit (its wall-clock backstop, longer
# for a call a busy host starves of CPU) plus a few runner starts; a grading that takes
# longer means a limit was not enforced.
GRADING_BOUND_S = STARVED_SECONDS + 15.0

PASSED, FAILED, ERROR = CheckStatus.PASSED, CheckStatus.FAILED, CheckStatus.ERROR
TIMEOUT, MEMORY, CRASH = CheckStatus.TIMEOUT, CheckStatus.MEMORY, CheckStatus.CRASH
ALL_PASS = {
    "square": (PASSED, "square(x): all 12 values within"),
    "add": (PASSED, "add(a, b): all 6 values within"),
    "center": (PASSED, "center(x): all 6 values within"),
    "total": (PASSED, "total(x): all 1 values within"),
    "square_hidden": (PASSED, "square(x): all 7 values within"),
}

SANDBOXES = [
    pytest.param("local", marks=pytest.mark.bwrap),
    pytest.param("docker", marks=pytest.mark.docker),
    # A worker's warm pool (grader/sandbox/pool.py): the grading takes a waiting container.
    pytest.param("docker-pool", marks=pytest.mark.docker),
    # The same for the local sandbox: a waiting bubblewrap sandbox (local_pool.py).
    pytest.param("local-pool", marks=pytest.mark.bwrap),
]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test with a ``sandbox`` runs in each of SANDBOXES, but a test of the command
    line is not offered the warm pool: the command grades in a process of its own, which
    keeps none (a worker does), so there is nothing of the pool to test there."""
    if "sandbox" not in metafunc.fixturenames:
        return
    kinds = SANDBOXES
    if '"grader.cli"' in inspect.getsource(metafunc.function):
        kinds = [p for p in SANDBOXES if not str(p.values[0]).endswith("-pool")]
    metafunc.parametrize("sandbox", kinds, indirect=True)


# -- the host side -------------------------------------------------------------------


def _stat_fields(pid: str) -> list[str]:
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().rpartition(")")[2].split()


def _processes() -> dict[int, tuple[int, str, bytes]]:
    """Every live (non-zombie) process: pid -> (parent pid, start time, command line)."""
    out = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            fields = _stat_fields(entry.name)
            with open(f"/proc/{entry.name}/cmdline", "rb") as fh:
                cmdline = fh.read()
        except OSError:
            continue
        if fields[0] in ("Z", "X"):
            continue
        out[int(entry.name)] = (int(fields[1]), fields[19], cmdline)
    return out


def processes_with(marker: str) -> list[int]:
    return [
        pid
        for pid, (_, _, cmd) in _processes().items()
        if marker.encode() in cmd and pid != os.getpid()
    ]


def _host_ip() -> str:
    """This machine's address on its default route (no packet is sent)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))
            return probe.getsockname()[0]
    except OSError:
        return "127.0.0.2"


class Listener:
    """A TCP and a UDP socket on all interfaces, one port: records whatever reaches them."""

    def __init__(self) -> None:
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind(("0.0.0.0", 0))
        self.tcp.listen(16)
        self.port = self.tcp.getsockname()[1]
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("0.0.0.0", self.port))
        self.heard: list[str] = []
        self.open = True
        for target in (self._accept, self._receive):
            threading.Thread(target=target, daemon=True).start()

    def _accept(self) -> None:
        while self.open:
            try:
                conn, addr = self.tcp.accept()
            except OSError:
                return
            self.heard.append(f"tcp from {addr}")
            conn.close()

    def _receive(self) -> None:
        while self.open:
            try:
                data, addr = self.udp.recvfrom(4096)
            except OSError:
                return
            self.heard.append(f"udp from {addr}: {data[:40]!r}")

    def close(self) -> None:
        self.open = False
        self.tcp.close()
        self.udp.close()


@dataclass
class Host:
    """What a grading must leave as it found: processes, files, network, secrets."""

    dir: Path
    listener: Listener
    seen: dict[int, str] = field(default_factory=dict)  # pid -> start time, during grading
    marker_counts: list[dict[str, int]] = field(default_factory=list)

    def subs(self) -> dict[str, str]:
        return {
            "REPO": str(REPO),
            "FIXTURE": str(FIXTURE),
            "HOME": os.path.expanduser("~"),
            "HOST_DIR": str(self.dir),
            "PORT": str(self.listener.port),
            "HOST_IP": _host_ip(),
            "RUN": RUN_ID,
        }

    def snapshot(self, *_: object) -> None:
        """Called as each check starts: note this process's descendants and marked processes."""
        procs = _processes()
        me = os.getpid()
        for pid, (ppid, started, cmd) in procs.items():
            chain, up = set(), ppid
            while up not in (0, 1, me) and up in procs and up not in chain:
                chain.add(up)
                up = procs[up][0]
            if up == me or any(m.encode() in cmd for m in PROCESS_MARKERS.values()):
                self.seen[pid] = started
        self.marker_counts.append(
            {
                k: sum(m.encode() in c for _, _, c in procs.values())
                for k, m in PROCESS_MARKERS.items()
            }
        )

    def assert_untouched(self, report: GradeReport) -> None:
        procs = _processes()
        # The processes of sandboxes waiting in a local pool (its refill thread starts them
        # whenever a grading takes one, for the next grading): no grading's.
        waiting = {pid for warm in LOCAL_POOLS for pid in warm.waiting_pids()}
        survivors = [
            (pid, procs[pid][2][:120]) for pid, started in self.seen.items()
            if pid in procs and procs[pid][1] == started and pid not in waiting
        ]  # fmt: skip
        assert not survivors, f"processes of the grading still running: {survivors}"
        for marker in PROCESS_MARKERS.values():
            assert not processes_with(marker), f"a '{marker}' process survived grading"
        places = [Path("/tmp"), REPO, FIXTURE, FIXTURE / "solution", Path.home(), self.dir]
        escaped = [str(p / n) for p in places for n in ESCAPED_NAMES if (p / n).exists()]
        assert not escaped, f"files written outside the sandbox: {escaped}"
        assert not self.listener.heard, f"the network listener was reached: {self.listener.heard}"
        text = json.dumps(report.to_dict())
        for secret in (*ENV_SECRETS.values(), *FIXTURE_SECRETS, "pw-redteam-77d2e0"):
            assert secret not in text, f"secret {secret!r} leaked into the report"


@pytest.fixture(scope="module")
def assignment() -> Assignment:
    return load_assignment(FIXTURE)


@pytest.fixture(scope="module")
def listener():
    lis = Listener()
    yield lis
    lis.close()


@pytest.fixture
def host(tmp_path: Path, listener: Listener, monkeypatch: pytest.MonkeyPatch) -> Host:
    for key, value in ENV_SECRETS.items():
        monkeypatch.setenv(key, value)
    listener.heard.clear()
    place = tmp_path / "host"
    place.mkdir()
    return Host(dir=place, listener=listener)


@pytest.fixture(scope="module")
def docker_pool() -> Iterator[ContainerPool]:
    # Filled by the fixture before each grading, never in the background: a container
    # started during a grading would count as a process the grading left behind.
    pool = ContainerPool(size=1, refill=False)
    yield pool
    pool.close()


@pytest.fixture(scope="module")
def local_pool() -> Iterator[LocalPool]:
    # Its sandboxes start in its refill thread only (see local_pool.py); a waiting one is
    # no process an attack left behind: it carries none of the markers looked for.
    pool = LocalPool(size=1, tick_s=0.2)
    LOCAL_POOLS.append(pool)
    yield pool
    LOCAL_POOLS.remove(pool)
    pool.close()


LOCAL_POOLS: list[LocalPool] = []


@pytest.fixture
def sandbox(request: pytest.FixtureRequest, assignment: Assignment) -> Iterator[str]:
    kind = request.param
    if kind in ("local", "local-pool"):
        # Without bubblewrap the local sandbox is rlimits only and says it is no boundary.
        require(bwrap_path() is not None, "bubblewrap", "apt-get install bubblewrap")
        if kind == "local":
            yield kind
            return
        warm: LocalPool = request.getfixturevalue("local_pool")
        spec = SandboxSpec(
            root=FIXTURE, environment=assignment.environment, limits=assignment.limits
        )
        assert warm.fill(spec) == 1
        taken = warm.taken
        pools.install(warm, "local")
        try:
            yield "local"
        finally:
            pools.install(None, "local")
        # The attack met a pooled sandbox, not a cold one.
        assert warm.taken > taken
        return
    require(
        docker_ready("numpy"),
        "Docker engine and sandbox images",
        "scripts/start_docker.sh && .venv/bin/dlgrade images build",
    )
    if kind == "docker":
        yield kind
        return
    pool: ContainerPool = request.getfixturevalue("docker_pool")
    spec = SandboxSpec(root=FIXTURE, environment=assignment.environment, limits=assignment.limits)
    assert pool.fill(spec) == 1
    taken = pool.taken
    pools.install(pool)
    try:
        yield "docker"
    finally:
        pools.install(None)
    # The attack met a pooled container, not a cold one.
    assert pool.taken > taken


def attack(name: str, host: Host, **extra: str) -> Path:
    """The attack file with its @@PLACEHOLDERS@@ filled in, written next to the test's files."""
    text = (ATTACKS / f"{name}.py").read_text()
    for key, value in {**host.subs(), "HOLD": "0.2", **extra}.items():
        text = text.replace(f"@@{key}@@", value)
    assert not re.search(r"@@[A-Z_]+@@", text), f"{name}.py has an unknown placeholder"
    path = host.dir.parent / "upload" / f"{name}.py"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return path


@dataclass
class Graded:
    report: GradeReport
    seconds: float

    @property
    def checks(self) -> dict[str, tuple[CheckStatus, str]]:
        return {c.name: (c.status, c.message) for c in self.report.checks}


def grade_within(
    assignment: Assignment, submission: Path, sandbox: str, host: Host, seconds: float
) -> Graded:
    """Grade in a thread, so that a grading that never ends fails the test instead of hanging it."""
    done: dict[str, object] = {}

    def target() -> None:
        try:
            done["report"] = grade(
                assignment, submission, sandbox=sandbox, on_progress=host.snapshot
            )
        except BaseException as exc:  # re-raised in the test's thread
            done["error"] = exc

    started = time.monotonic()
    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"grading did not end within {seconds:g} s"
    if "error" in done:
        raise done["error"]  # type: ignore[misc]
    return Graded(done["report"], time.monotonic() - started)  # type: ignore[arg-type]


def run(assignment: Assignment, submission: Path, sandbox: str, host: Host) -> Graded:
    graded = grade_within(assignment, submission, sandbox, host, GRADING_BOUND_S)
    host.assert_untouched(graded.report)
    return graded


NOT_LOADED = "not run: redteam.py could not be loaded (see the first check)"


def load_failed(status: CheckStatus, message: str) -> dict[str, tuple[CheckStatus, str]]:
    """A load that failed: its message in the first check (and the report), once."""
    return {name: (status, message if name == "square" else NOT_LOADED) for name in ALL_PASS}


def expect(graded: Graded, score: float, checks: dict[str, tuple[CheckStatus, str]]) -> None:
    """The exact score, and each check's status and the start of its message."""
    report = graded.report
    assert [c.name for c in report.checks] == list(ALL_PASS)
    assert report.max_score == MAX_SCORE
    got = {name: (status, message[: len(checks[name][1])]) for name, (status, message) in
           graded.checks.items()}  # fmt: skip
    assert got == checks, "\n" + "\n".join(f"{k}: {v}" for k, v in graded.checks.items())
    for c in report.checks:
        assert c.score == (c.max_score if c.status == PASSED else 0.0)
    assert report.score == score
    assert report.status == ReportStatus.GRADED


def test_solution_full_marks_starter_none(assignment: Assignment, sandbox: str, host: Host) -> None:
    """The fixture is sound: the solution scores 6, the starter 0; hidden checks are marked."""
    graded = run(assignment, FIXTURE / "solution" / "redteam.py", sandbox, host)
    expect(graded, MAX_SCORE, ALL_PASS)
    assert [c.hidden for c in graded.report.checks] == [False, False, False, False, True]
    starter = run(assignment, FIXTURE / "starter" / "redteam.py", sandbox, host)
    expect(starter, 0.0, {name: (ERROR, "NotImplementedError") for name in ALL_PASS})


# -- output and results files are information, never a verdict ----------------------------


def _zeros_fail() -> dict[str, tuple[CheckStatus, str]]:
    return {
        "square": (FAILED, "square(x): 12 of 12 values differ"),
        "add": (FAILED, "add(a, b): 6 of 6 values differ"),
        "center": (FAILED, "center(x): 6 of 6 values differ"),
        "total": (FAILED, "total(x): 1 of 1 values differ"),
        "square_hidden": (FAILED, "square(x): 7 of 7 values differ"),
    }


def test_forged_output_is_only_output(assignment: Assignment, sandbox: str, host: Host) -> None:
    graded = run(assignment, attack("forged_stdout", host), sandbox, host)
    expect(graded, 0.0, _zeros_fail())
    # It was captured and shown, and believed by nobody.
    assert '"score": 100' in graded.report.output
    assert "redteam: 6 / 6 points (graded)" in graded.report.output
    # In a terminal it is shown as text: no escape sequence or carriage return reaches
    # the screen to repaint the verdicts above it.
    text = render_text(graded.report)
    assert text.splitlines()[0] == "redteam: 0 / 6 points (graded)"
    assert "\\x1b[2J\\x1b[H" in text
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", text)


def test_forged_output_cli_json_is_one_object(sandbox: str, host: Host) -> None:
    """`dlgrade grade --json` prints exactly one JSON object, whatever the submission prints."""
    done = subprocess.run(
        [sys.executable, "-m", "grader.cli", "grade", str(FIXTURE),
         str(attack("forged_stdout", host)), "--sandbox", sandbox, "--json"],
        capture_output=True, cwd=REPO, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()
    lines = done.stdout.decode().splitlines()
    assert len(lines) == 1
    report = json.loads(lines[0])
    assert (report["score"], report["status"]) == (0.0, "graded")
    assert [c["status"] for c in report["checks"]] == ["failed"] * 5


def test_fake_results_files_are_ignored(assignment: Assignment, sandbox: str, host: Host) -> None:
    graded = run(assignment, attack("fake_results", host), sandbox, host)
    expect(graded, 0.0, _zeros_fail())
    out = graded.report.output
    assert f"could not write {host.dir}/dlgrade-redteam-results.json" in out
    assert f"could not write {REPO}/dlgrade-redteam-results.json" in out
    assert "could not write /sandbox/results.json" in out


def test_writes_outside_the_sandbox_fail(assignment: Assignment, sandbox: str, host: Host) -> None:
    graded = run(assignment, attack("write_outside", host), sandbox, host)
    expect(graded, MAX_SCORE, ALL_PASS)
    out = graded.report.output
    for place in (host.dir, REPO, FIXTURE, Path.home(), "/sandbox", "/sandbox/runner", "/usr"):
        assert f"refused {place}/dlgrade-redteam-escaped-write" in out
    assert "refused symlink" in out


# -- exits, signals and crashes cost only the checks they touch ----------------------------


def test_exit_at_import(assignment: Assignment, sandbox: str, host: Host) -> None:
    graded = run(assignment, attack("exit_at_import", host), sandbox, host)
    message = "could not load redteam.py: the process exited during the call (exit status 0)"
    expect(graded, 0.0, load_failed(CRASH, message))
    assert graded.report.message == message
    assert graded.report.environment["runner_starts"] == 1  # a failed load is not retried


def test_exit_inside_a_call(assignment: Assignment, sandbox: str, host: Host) -> None:
    graded = run(assignment, attack("exit_in_call", host), sandbox, host)
    expect(graded, 5.0, {
        **ALL_PASS, "add": (CRASH, "the process exited during the call (exit status 0)"),
    })  # fmt: skip
    assert graded.report.environment["runner_starts"] == 2


def test_system_exit_inside_calls(assignment: Assignment, sandbox: str, host: Host) -> None:
    graded = run(assignment, attack("systemexit_in_call", host), sandbox, host)
    expect(graded, 1.0, {
        "square": (ERROR, "SystemExit: 0"),
        "add": (ERROR, "SystemExit: bye"),
        "center": (ERROR, "KeyboardInterrupt"),
        "total": ALL_PASS["total"],
        "square_hidden": (ERROR, "SystemExit: 0"),
    })  # fmt: skip


def test_sys_exit_at_import(assignment: Assignment, sandbox: str, host: Host) -> None:
    graded = run(assignment, attack("sys_exit_at_import", host), sandbox, host)
    message = "could not load redteam.py: SystemExit: 0"
    expect(graded, 0.0, load_failed(ERROR, message))


def test_deep_recursion(assignment: Assignment, sandbox: str, host: Host) -> None:
    graded = run(assignment, attack("deep_recursion", host), sandbox, host)
    # SIGSEGV: -11 seen from a bare process, 139 (128 + 11) through an init.
    expect(graded, 2.0, {
        "square": (ERROR, "RecursionError: maximum recursion depth exceeded"),
        "add": (CRASH, "the process exited during the call (exit status "),
        "center": ALL_PASS["center"],
        "total": ALL_PASS["total"],
        "square_hidden": (ERROR, "RecursionError: maximum recursion depth exceeded"),
    })  # fmt: skip
    assert graded.checks["add"][1].endswith(("(exit status 139)", "(exit status -11)"))


# -- the comparison happens outside: nothing inside can rig it -------------------------------


def test_monkeypatching_the_sandbox_changes_nothing(
    assignment: Assignment, sandbox: str, host: Host
) -> None:
    graded = run(assignment, attack("monkeypatch", host), sandbox, host)
    expect(graded, 0.0, {
        "square": (FAILED, "square(x): 12 of 12 values differ"),
        "add": (FAILED, "add(a, b): 6 of 6 values differ"),
        "center": (FAILED, "center(x): 6 of 6 values differ"),
        "total": (FAILED, "total(x): 1 of 1 values differ"),
        "square_hidden": (FAILED, "square(x): 7 of 7 values differ"),
    })  # fmt: skip
    assert not np.allclose(0.0, 1.0) and abs(-1) == 1  # this process's numpy and builtins


def test_lying_objects_are_read_as_data(assignment: Assignment, sandbox: str, host: Host) -> None:
    graded = run(assignment, attack("lying_objects", host), sandbox, host)
    expect(graded, 0.0, {
        "square": (FAILED, "square(x): 12 of 12 values differ"),
        "add": (ERROR, "TypeError: the value returned cannot be graded: cannot send a value "
                       "of type redteam.Shapeshifter"),
        "center": (FAILED, "center(x): 6 of 6 values differ"),
        "total": (FAILED, "total(x): 1 of 1 values differ"),
        "square_hidden": (FAILED, "square(x): 7 of 7 values differ"),
    })  # fmt: skip
    for name in ("square", "center", "total"):
        assert "got 0," in graded.checks[name][1]  # the zeros the objects really held


def test_pickle_payloads_never_cross(assignment: Assignment, sandbox: str, host: Host) -> None:
    graded = run(assignment, attack("reduce_payload", host), sandbox, host)
    refused = "TypeError: the value returned cannot be graded: cannot send "
    expect(graded, 0.0, {
        "square": (ERROR, refused + "an array of dtype object"),
        "add": (ERROR, refused + "a value of type redteam.Payload"),
        "center": (ERROR, refused + "a value of type redteam.Payload"),
        "total": (ERROR, refused + "a value of type redteam.Payload"),
        "square_hidden": (ERROR, refused + "an array of dtype object"),
    })  # fmt: skip
    assert not (host.dir / "dlgrade-redteam-reduce-ran").exists()


def test_values_that_are_not_data(assignment: Assignment, sandbox: str, host: Host) -> None:
    graded = run(assignment, attack("weird_returns", host), sandbox, host)
    refused = "TypeError: the value returned cannot be graded: cannot send a value of type "
    expect(graded, 0.0, {
        "square": (ERROR, refused + "set"),
        "add": (ERROR, refused + "function"),
        "center": (ERROR, refused + "generator"),
        "total": (ERROR, refused + "complex"),
        "square_hidden": (ERROR, refused + "set"),
    })  # fmt: skip


def test_inputs_are_copies(assignment: Assignment, sandbox: str, host: Host) -> None:
    """center and total would pass if the reference saw the inputs the student zeroed."""
    graded = run(assignment, attack("mutate_inputs", host), sandbox, host)
    expect(graded, 4.0, {
        **ALL_PASS,
        "center": (FAILED, "center(x): 6 of 6 values differ"),
        "total": (FAILED, "total(x): 1 of 1 values differ"),
    })  # fmt: skip


def test_introspection_finds_no_answers(assignment: Assignment, sandbox: str, host: Host) -> None:
    graded = run(assignment, attack("introspection", host), sandbox, host)
    expect(graded, 0.0, {
        "square": (FAILED, "square(x): 12 of 12 values differ"),
        "add": (FAILED, "add(a, b): "),
        "center": (FAILED, "center(x): 6 of 6 values differ"),
        "total": (FAILED, "total(x): 1 of 1 values differ"),
        "square_hidden": (FAILED, "square(x): 7 of 7 values differ"),
    })  # fmt: skip
    # Not even the trusted side's modules are there to look into.
    assert "modules: ['numpy.lib._type_check_impl']" in graded.report.output


# -- secrets never enter the sandbox --------------------------------------------------------


def test_checks_solution_and_reference_are_out_of_reach(
    assignment: Assignment, sandbox: str, host: Host
) -> None:
    graded = run(assignment, attack("read_secrets", host), sandbox, host)
    expect(graded, 0.0, _zeros_fail() | {"center": (FAILED, "center(x): ")})
    out = graded.report.output
    assert "walk complete" in out  # the whole file system was searched, in time
    assert "found 0 secret file(s)" in out
    assert "FOUND" not in out


def test_service_environment_is_out_of_reach(
    assignment: Assignment, sandbox: str, host: Host
) -> None:
    graded = run(assignment, attack("read_env", host), sandbox, host)
    expect(graded, 0.0, {
        "square": (FAILED, "square(x): expected a NumPy array, got dict"),
        "add": (FAILED, "add(a, b): expected a NumPy array, got dict"),
        "center": (FAILED, "center(x): expected a NumPy array, got str"),
        "total": (FAILED, "total(x): expected a NumPy array, got list"),
        "square_hidden": (FAILED, "square(x): expected a NumPy array, got dict"),
    })  # fmt: skip
    out = graded.report.output
    assert out.startswith("environment: {") and "'HOME': '/tmp'" in out
    for key in ENV_SECRETS:
        assert key not in out  # not even the names


def test_no_network(assignment: Assignment, sandbox: str, host: Host) -> None:
    graded = run(assignment, attack("network", host), sandbox, host)
    expect(graded, MAX_SCORE, ALL_PASS)
    out = graded.report.output
    assert f"no connection to ('127.0.0.1', {host.listener.port})" in out
    assert "no connection to ('1.1.1.1', 53)" in out
    assert "no connection to /var/run/docker.sock" in out
    assert "no DNS" in out
    assert "CONNECTED" not in out and "RESOLVED" not in out


def test_the_channel_cannot_be_taken_over(assignment: Assignment, sandbox: str, host: Host):
    """A Docker runner's socket (grader/sandbox/channel.py) is gone before the submission runs."""
    graded = run(assignment, attack("channel_hijack", host), sandbox, host)
    expect(graded, MAX_SCORE, ALL_PASS)
    out = graded.report.output
    assert "channel sockets found: none" in out, out
    assert "CONNECTED" not in out
    if sandbox.startswith("docker"):
        assert graded.report.environment["channel"] == "unix socket"


# -- limits are enforced from outside; one hang costs only its checks ------------------------


def test_fork_bomb(assignment: Assignment, sandbox: str, host: Host) -> None:
    graded = run(assignment, attack("fork_bomb", host), sandbox, host)
    expect(graded, MAX_SCORE, ALL_PASS)
    assert "fork refused after" in graded.report.output
    during = max(c["forkbomb"] for c in host.marker_counts)
    assert 0 < during <= PIDS  # it ran, within the process limit; and is gone (run())


def test_fork_bomb_spares_a_concurrent_grading(
    assignment: Assignment, sandbox: str, host: Host
) -> None:
    """While one submission holds every process it may have, another is graded as usual."""
    bomb = attack("fork_bomb", host, HOLD="2.5")
    bombing: dict[str, Graded] = {}
    thread = threading.Thread(
        target=lambda: bombing.update(graded=grade_within(assignment, bomb, sandbox, host, 20)),
        daemon=True,
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not processes_with(PROCESS_MARKERS["forkbomb"]) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert processes_with(PROCESS_MARKERS["forkbomb"]), "the fork bomb never went off"
    honest = grade_within(assignment, FIXTURE / "solution" / "redteam.py", sandbox, host, 20)
    assert processes_with(PROCESS_MARKERS["forkbomb"]), "the bomb ended before the honest grading"
    thread.join(GRADING_BOUND_S)
    expect(honest, MAX_SCORE, ALL_PASS)
    expect(bombing["graded"], MAX_SCORE, ALL_PASS)
    host.assert_untouched(honest.report)
    host.assert_untouched(bombing["graded"].report)


def test_daemon_is_gone_after_grading(assignment: Assignment, sandbox: str, host: Host) -> None:
    graded = run(assignment, attack("daemon", host), sandbox, host)
    expect(graded, MAX_SCORE, ALL_PASS)
    # Seen on the host while grading ran (so the attack worked); gone now (run()).
    assert host.marker_counts[-1]["daemon"] == 1


def test_memory_hog(assignment: Assignment, sandbox: str, host: Host) -> None:
    graded = run(assignment, attack("memory_hog", host), sandbox, host)
    # In-process (MemoryError, local rlimit) or killed from outside (Docker's cgroup).
    expect(graded, 5.0, {**ALL_PASS, "add": (MEMORY, "")})
    assert "memory" in graded.checks["add"][1].lower()


@pytest.mark.parametrize(
    "kind",
    [
        pytest.param("local", marks=pytest.mark.bwrap),
        pytest.param("docker", marks=pytest.mark.docker),
    ],
)
def test_memory_limit_covers_all_processes(assignment: Assignment, kind: str, host: Host) -> None:
    if kind == "local":
        require(bwrap_path() is not None, "bubblewrap", "apt-get install bubblewrap")
        # Without a memory cgroup the local sandbox has only RLIMIT_AS, which holds per process.
        require(
            cgroups_available(),
            "memory cgroup",
            "run as root on a machine with cgroup v1 memory controller or cgroup v2",
        )
    else:
        require(
            docker_ready("numpy"),
            "Docker engine and sandbox images",
            "scripts/start_docker.sh && .venv/bin/dlgrade images build",
        )
    graded = run(assignment, attack("memory_children", host), kind, host)
    expect(graded, MAX_SCORE, ALL_PASS)
    held = re.search(r"holding (\d+) x 160 MiB", graded.report.output)
    assert held is not None
    assert int(held.group(1)) * 160 <= 256  # the submission's processes together
    if kind == "local":
        assert str(graded.report.environment["memory_limit"]).startswith("cgroup v")


def test_disk_fill_is_capped(assignment: Assignment, sandbox: str, host: Host) -> None:
    graded = run(assignment, attack("disk_fill", host), sandbox, host)
    expect(graded, MAX_SCORE, ALL_PASS)
    filled = {
        m.group(1): int(m.group(2))
        for m in re.finditer(r"filled (\S+): (\d+) MiB", graded.report.output)
    }
    assert len(filled) == 9
    assert all(mib <= TMPFS_MIB for mib in filled.values()), filled
    # Only the capped /tmp and /dev/shm take anything; everything else is read-only.
    assert {k for k, v in filled.items() if v} <= {"/tmp", "/dev/shm"}, filled


def test_no_namespace_of_its_own(assignment: Assignment, sandbox: str, host: Host) -> None:
    """Root of a new user namespace could mount a tmpfs with no cap: it must not get one."""
    graded = run(assignment, attack("nested_namespace", host), sandbox, host)
    expect(graded, MAX_SCORE, ALL_PASS)
    out = graded.report.output
    assert out.startswith("unshare: 1 ") and "unshare failed" in out
    assert "NESTED-WROTE" not in out


def test_output_flood_is_truncated(assignment: Assignment, sandbox: str, host: Host) -> None:
    graded = run(assignment, attack("output_flood", host), sandbox, host)
    expect(graded, MAX_SCORE, ALL_PASS)
    out = graded.report.output
    shown, note = out.rsplit("\n[output truncated: ", 1)
    assert len(shown.encode()) <= OUTPUT_BYTES
    # Counted in full though not kept: 2048 lines of 1021 bytes at import, and 4096
    # more in each of the two calls of square(); the second call is the hidden check's,
    # whose output is kept apart (for staff), with a limit of its own.
    assert note == f"{(2048 + 4096) * 1021} bytes printed, first {len(shown)} shown]"
    hidden, hidden_note = graded.report.hidden_output.rsplit("\n[output truncated: ", 1)
    assert len(hidden.encode()) <= OUTPUT_BYTES
    assert hidden_note == f"{4096 * 1021} bytes printed, first {len(hidden)} shown]"


def test_infinite_loop_at_import(assignment: Assignment, sandbox: str, host: Host) -> None:
    graded = run(assignment, attack("import_loop", host), sandbox, host)
    message = f"could not load redteam.py: took longer than the {CALL_SECONDS:g} s limit"
    expect(graded, 0.0, load_failed(TIMEOUT, message))
    # Ended by its CPU time: a busy host makes it take longer, never makes it a timeout.
    said = graded.checks["square"][1]
    clock, _, where = said.partition("; when it was stopped, your code was here")
    assert clock.endswith(" s of CPU time)"), said
    # And where the loop was: the runner's last stack sample, the student's own frame.
    assert '\n  File "redteam.py", line ' in where and ", in <module>\n" in where, said
    assert graded.report.environment["time_limits"].startswith("CPU time")
    # One load's time limit, not one per check: the later checks fail at once.
    assert graded.seconds < STARVED_SECONDS + 5
    assert graded.report.environment["runner_starts"] == 1


def test_busy_loop_in_a_call_is_a_timeout_by_cpu_time(
    assignment: Assignment, sandbox: str, host: Host
) -> None:
    graded = run(assignment, attack("busy_call", host), sandbox, host)
    message = f"took longer than the {CALL_SECONDS:g} s limit ("
    expect(graded, 5.0, {**ALL_PASS, "add": (TIMEOUT, message)})
    said = graded.checks["add"][1]
    clock, _, where = said.partition("; when it was stopped, your code was here")
    assert clock.endswith(" s of CPU time)"), said
    assert '\n  File "redteam.py", line ' in where and ", in add\n" in where, said
    assert graded.seconds < STARVED_SECONDS + 5


@pytest.mark.parametrize("name", ["sleep_forever", "sigterm_ignore"])
def test_hanging_call_costs_only_its_check(
    assignment: Assignment, sandbox: str, host: Host, name: str
) -> None:
    graded = run(assignment, attack(name, host), sandbox, host)
    message = f"took longer than the {CALL_SECONDS:g} s limit"
    expect(graded, 5.0, {**ALL_PASS, "add": (TIMEOUT, message)})
    if name == "sleep_forever":  # asleep, using no CPU: the wall-clock backstop ends it
        assert (
            f"still running after {BACKSTOP_SECONDS:.0f} s of wall time"
            in (graded.checks["add"][1])
        ), graded.checks["add"]
    # The hung call's own time (the grading's also holds runner starts, slow on a busy host).
    took = {c.name: c.seconds for c in graded.report.checks}["add"]
    assert took < (BACKSTOP_SECONDS if name == "sleep_forever" else STARVED_SECONDS) + 5
    assert graded.report.environment["runner_starts"] == 2  # a fresh runner after the hang


def test_runner_that_stops_reading(assignment: Assignment, sandbox: str, host: Host) -> None:
    """total's 768 KB request cannot be written to a runner that reads nothing: it times out."""
    graded = run(assignment, attack("stall_protocol", host), sandbox, host)
    message = f"took longer than the {CALL_SECONDS:g} s limit"
    expect(graded, 5.0, {**ALL_PASS, "total": (TIMEOUT, message)})
    assert graded.checks["total"][1].endswith("(it stopped reading its input)")
    assert {c.name: c.seconds for c in graded.report.checks}["total"] < BACKSTOP_SECONDS + 5


def test_flooded_channel_does_not_fill_the_grader(
    assignment: Assignment, sandbox: str, host: Host
) -> None:
    """Frames nobody asked for stay in the pipe, not in the trusted process's memory.

    Driven through a session directly, to hold the trusted side busy (a slow
    reference) while the submission floods: a grading of this fixture is too
    quick to leave it that window.
    """
    # Like the engine's, in /tmp: the sandbox user must be able to reach it.
    work = Path(tempfile.mkdtemp(prefix="dlgrade-redteam-"))
    root = prepare_root(assignment, attack("flood_protocol", host), work)
    box = make_sandbox(sandbox, SandboxSpec(root=root, limits=assignment.limits))
    session = RunnerSession(box, assignment.load, output_limit=OUTPUT_BYTES)
    try:
        x = np.arange(3.0)
        call = {"op": "call", "name": "add", "args": [x, x], "kwargs": {}}
        session.request(call, CALL_SECONDS)  # loaded and answering
        session.request({**call, "name": "square", "args": [x]}, CALL_SECONDS)  # starts it
        time.sleep(1.0)  # the trusted side is busy; each frame is 1 MiB
        # Two frames read (the flood happened), and then no more (it was stopped).
        assert session.responses.qsize() == 2
        with pytest.raises(StudentError) as err:
            session.request(call, CALL_SECONDS)
        assert err.value.status == CRASH
    finally:
        session.close()
        box.close()
        shutil.rmtree(work)


# -- wrong answers get diagnoses, not crashes of the grader ----------------------------------


def test_non_finite_answers(assignment: Assignment, sandbox: str, host: Host) -> None:
    graded = run(assignment, attack("nan_inf", host), sandbox, host)
    expect(graded, 0.0, {
        "square": (FAILED, "square(x): 12 non-finite value(s); first at index [0, 0]: got "),
        "add": (FAILED, "add(a, b): 6 non-finite value(s); first at index [0, 0]: got "),
        "center": (FAILED, "center(x): 1 non-finite value(s); first at index [2]: got "),
        "total": (FAILED, "total(x): 1 non-finite value(s); first at index []: got "),
        "square_hidden": (FAILED, "square(x): 7 non-finite value(s); first at index [0]: "),
    })  # fmt: skip


def test_wrong_shapes_and_types(assignment: Assignment, sandbox: str, host: Host) -> None:
    graded = run(assignment, attack("wrong_shapes", host), sandbox, host)
    expect(graded, 2.0, {
        "square": (FAILED, "square(x): shape (3, 4), expected (4, 3)"),
        "add": (FAILED, "add(a, b): float16 results are too imprecise to grade"),
        # Ragged lists are the student's mistake, never a platform error.
        "center": (FAILED, "center(x): the nested lists returned are ragged"),
        "total": (FAILED, "total(x): expected a NumPy array, got str"),
        "square_hidden": ALL_PASS["square_hidden"],  # 1-D: the transpose is the answer
    })  # fmt: skip


def test_missing_function(assignment: Assignment, sandbox: str, host: Host) -> None:
    graded = run(assignment, attack("missing_function", host), sandbox, host)
    expect(graded, 5.0, {
        **ALL_PASS, "center": (ERROR, "LookupError: your code does not define 'center'"),
    })  # fmt: skip


BROKEN_SOURCES = {
    "syntax_error": (
        b"def square(x):\n    return x *\n",
        "could not load redteam.py: SyntaxError: invalid syntax",
    ),
    # Latin-1 in a string literal (Python lets bad bytes pass in comments).
    "non_utf8": (
        b'GREETING = "caf\xe9"\n\ndef square(x):\n    return x * x\n',
        "could not load redteam.py: SyntaxError: (unicode error) 'utf-8' codec can't decode",
    ),
    "empty": (b"", "LookupError: your code does not define '"),
}


@pytest.mark.parametrize("name", list(BROKEN_SOURCES))
def test_unloadable_sources(
    assignment: Assignment, sandbox: str, host: Host, tmp_path: Path, name: str
) -> None:
    source, message = BROKEN_SOURCES[name]
    path = tmp_path / "redteam.py"
    path.write_bytes(source)
    graded = run(assignment, path, sandbox, host)
    if name == "empty":
        expect(graded, 0.0, {n: (ERROR, message) for n in ALL_PASS})
        assert graded.checks["add"][1] == "LookupError: your code does not define 'add'"
    else:
        expect(graded, 0.0, load_failed(ERROR, message))
        assert graded.report.message.startswith(message)
        assert graded.report.environment["runner_starts"] == 1


def test_differently_written_correct_answers(
    assignment: Assignment, sandbox: str, host: Host
) -> None:
    """float32, a list, a strided big-endian view, a 0-d array: values are what is graded."""
    graded = run(assignment, attack("honest_variants", host), sandbox, host)
    expect(graded, MAX_SCORE, ALL_PASS)


# -- hostile archives are rejected before anything runs ------------------------------------


def _zip(entries: list[tuple[str | zipfile.ZipInfo, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return buf.getvalue()


def _symlink(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # unix: the high 16 bits of external_attr are st_mode
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


SOLUTION_SOURCE = (FIXTURE / "solution" / "redteam.py").read_bytes()
ARCHIVES: dict[str, tuple[Callable[[], bytes], str]] = {
    "zip_slip": (
        lambda: _zip([("redteam.py", SOLUTION_SOURCE),
                      ("../../../../../../tmp/dlgrade-redteam-zipslip.py", b"x = 1\n")]),
        "entry '../../../../../../tmp/dlgrade-redteam-zipslip.py' escapes the submission folder",
    ),
    "zip_absolute": (
        lambda: _zip([("redteam.py", SOLUTION_SOURCE),
                      ("/tmp/dlgrade-redteam-zipslip-abs.py", b"x = 1\n")]),
        "entry '/tmp/dlgrade-redteam-zipslip-abs.py' is an absolute path",
    ),
    "zip_symlink": (
        lambda: _zip([(_symlink("redteam.py"), str(FIXTURE / "solution" / "redteam.py").encode())]),
        "entry 'redteam.py' is a symbolic link",
    ),
    "zip_bomb": (
        lambda: _zip([("redteam.py", SOLUTION_SOURCE), ("data.bin", bytes(20 * 1024 * 1024))]),
        "entry 'data.bin' expands from ",
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", list(ARCHIVES))
def test_hostile_archives_are_rejected(
    assignment: Assignment, host: Host, tmp_path: Path, name: str
) -> None:
    build, message = ARCHIVES[name]
    upload = tmp_path / f"{name}.zip"
    upload.write_bytes(build())
    # Rejected while unpacking, before any sandbox exists: the kind does not matter.
    report = grade(assignment, upload, sandbox="local")
    host.assert_untouched(report)
    assert report.status == ReportStatus.REJECTED
    assert report.message.startswith(message)
    assert report.score == 0.0 and report.max_score == MAX_SCORE
    assert [(c.status, c.message) for c in report.checks] == [(ERROR, report.message)] * 5
    if name == "zip_bomb":
        assert "(a zip bomb?)" in report.message


# -- what comes back is validated: a malformed reply is the submission's fault --------------

MALFORMED = "the submission's process sent a malformed reply: "
TAMPERED = " (did your code change the grader's runner, or write to its channel?)"
# The bounds of issue 7, written here rather than imported from the code they judge.
REPORT_MAX_BYTES = 1_000_000
GRADER_PEAK_RSS_KIB = 500 * 1024
MESSAGE_MAX_CHARS = 12_000


def strict_json(text: str) -> dict:
    """Parse JSON as a strict parser does: NaN, Infinity and -Infinity are refused."""

    def refuse(token: str) -> None:
        raise ValueError(f"not strict JSON: the bare token {token}")

    return json.loads(text, parse_constant=refuse)


def strict_report(report: GradeReport) -> dict:
    """The report as the worker stores it: strict JSON, under the size bound."""
    text = json.dumps(report.to_dict(), allow_nan=False)
    assert len(text.encode()) < REPORT_MAX_BYTES
    return strict_json(text)


def test_memory_figure_out_of_range_is_malformed(
    assignment: Assignment, sandbox: str, host: Host
) -> None:
    """peak_kb() of 10**400: an OverflowError in the grader (no report) before."""
    graded = run(assignment, attack("huge_memory_figure", host), sandbox, host)
    message = (
        f"could not load redteam.py: {MALFORMED}the reply's memory figure (rss_kb) is out of "
        f"range (an int with 1329 bits){TAMPERED}"
    )
    expect(graded, 0.0, load_failed(CRASH, message))
    assert graded.checks["square"][1] == message == graded.report.message
    assert graded.report.environment["peak_memory_mb"] is None
    strict_report(graded.report)


@pytest.mark.parametrize(
    ("name", "field", "kind"),
    [("versions_bytes", "python", "bytes"), ("versions_nan", "numpy", "float")],
)
def test_versions_that_are_not_text_are_malformed(
    assignment: Assignment, sandbox: str, host: Host, name: str, field: str, kind: str
) -> None:
    """Bytes made the report unwritable as JSON; NaN made it hold a bare NaN token."""
    graded = run(assignment, attack(name, host), sandbox, host)
    message = (
        f"could not load redteam.py: {MALFORMED}the version of {field!r} has type {kind}, "
        f"not str{TAMPERED}"
    )
    expect(graded, 0.0, load_failed(CRASH, message))
    assert graded.checks["square"][1] == message
    assert graded.report.environment["sandbox_versions"] == {}
    strict_report(graded.report)


@pytest.mark.parametrize(
    ("name", "what"),
    [
        ("reply_id_array", "the reply's id has type numpy.ndarray, not int"),
        ("traceback_ndarray", "the error's traceback has type numpy.ndarray, not list"),
    ],
)
def test_malformed_reply_is_a_verdict_not_a_platform_error(
    assignment: Assignment, sandbox: str, host: Host, name: str, what: str
) -> None:
    """Only the calls it broke fail, as the submission's crash; the report is graded."""
    graded = run(assignment, attack(name, host), sandbox, host)
    broken = (CRASH, MALFORMED + what + TAMPERED)
    expect(graded, 3.0, {**ALL_PASS, "square": broken, "square_hidden": broken})
    assert graded.checks["square"][1] == broken[1]
    # The channel is not trusted after a malformed frame: a fresh runner for add().
    assert graded.report.environment["runner_starts"] == 2
    strict_report(graded.report)


def test_huge_load_error_is_clipped_and_shown_once(
    assignment: Assignment, sandbox: str, host: Host
) -> None:
    """A SyntaxError on a 4 MiB line: 8 MiB of traceback, once copied into every check."""
    graded = run(assignment, attack("long_traceback_line", host), sandbox, host)
    first = "could not load redteam.py: SyntaxError: invalid syntax (long_line.py, line 1)"
    expect(graded, 0.0, load_failed(ERROR, first))
    shown = graded.checks["square"][1]
    assert shown == graded.report.message
    assert len(shown) < MESSAGE_MAX_CHARS
    assert "more characters]" in shown  # it says what it left out
    assert shown.endswith("\nSyntaxError: invalid syntax")  # where it failed is kept
    strict_report(graded.report)


def test_huge_answers_and_errors_stay_small(
    assignment: Assignment, sandbox: str, host: Host
) -> None:
    """A 48 MiB answer, and an error with an 8 MiB message and an 8 MiB traceback line."""
    graded = run(assignment, attack("huge_answers", host), sandbox, host)
    not_array = (FAILED, "square(x): expected a NumPy array, got bytes")
    expect(graded, 2.0, {
        **ALL_PASS, "square": not_array, "add": (ERROR, "ValueError: mmm"),
        "square_hidden": not_array,
    })  # fmt: skip
    error = graded.checks["add"][1]
    assert len(error) < MESSAGE_MAX_CHARS and "more characters]" in error
    assert 'File "generated_helper.py", line 1' in error
    strict_report(graded.report)


def test_flood_of_the_largest_frames_costs_only_the_spoiled_call(
    assignment: Assignment, sandbox: str, host: Host
) -> None:
    """60 MiB unasked frames: add() gets one instead of its answer; nothing else suffers."""
    graded = run(assignment, attack("flood_big_frames", host), sandbox, host)
    spoiled = (CRASH, "the submission's process wrote into the grader's channel")
    expect(graded, 5.0, {**ALL_PASS, "add": spoiled})
    strict_report(graded.report)


# The command is run by a small parent that reports the peak memory of the grading's
# whole process tree (the grader and every process it waited for).
MEASURED = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:]).returncode\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "sys.stderr.write(f'\\npeak_rss_kib={peak}\\n')\n"
    "sys.exit(code)\n"
)


@pytest.mark.parametrize("name", sorted(p.stem for p in ATTACKS.glob("*.py")))
def test_every_attack_ends_in_one_strict_small_report(sandbox: str, host: Host, name: str) -> None:
    """`dlgrade grade --json`: exit 0, one strict JSON report under 1 MB, no platform error,
    and the grader's peak memory under 500 MB, whatever the attack."""
    done = subprocess.run(
        [sys.executable, "-c", MEASURED, sys.executable, "-m", "grader.cli", "grade",
         str(FIXTURE), str(attack(name, host)), "--sandbox", sandbox, "--json"],
        capture_output=True, cwd=REPO, timeout=120,
    )  # fmt: skip
    stderr = done.stderr.decode(errors="replace")
    assert done.returncode == 0, stderr[-3000:]
    lines = done.stdout.splitlines()
    assert len(lines) == 1
    assert len(lines[0]) < REPORT_MAX_BYTES
    report = strict_json(lines[0].decode())
    assert report["status"] == "graded"
    assert [c["name"] for c in report["checks"]] == list(ALL_PASS)
    assert "platform_error" not in {c["status"] for c in report["checks"]}
    peak_kib = int(re.findall(r"peak_rss_kib=(\d+)", stderr)[-1])
    assert 0 < peak_kib < GRADER_PEAK_RSS_KIB, f"peak RSS {peak_kib} KiB"
    host.assert_untouched(GradeReport.from_dict(report))
