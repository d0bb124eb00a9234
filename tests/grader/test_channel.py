"""The runner's socket channel (grader/sandbox/channel.py), without Docker.

A process running as the sandbox's uid plays the container: it connects with the
runner's own ``open_channel`` and echoes requests back as replies. The Docker
sandboxes use the same listener for real (test_redteam.py, test_sandbox_docker.py).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.config import REPO_ROOT
from grader.sandbox.base import SandboxUnavailable
from grader.sandbox.channel import Listener
from grader.sandbox.images import SANDBOX_UID
from grader.sandbox.local import ensure_env
from tests.conftest import require

# The runner's connect, then an echo of each request as a reply.
RUNNER = """
import os, sys
sys.path.insert(0, sys.argv[1])
import runner
runner.open_channel(sys.argv[2])
while True:
    data = os.read(0, 4096)
    if not data:
        break
    os.write(1, data.upper())
"""


@pytest.fixture(scope="module")
def python() -> str:
    """The local sandbox's interpreter: numpy (which the runner's codec imports), and
    reachable by the sandbox's uid, which the service's own may not be."""
    require(os.geteuid() == 0, "root (to run a process as the sandbox's uid)", "run as root")
    return str(ensure_env("numpy") / "bin" / "python3")


@pytest.fixture
def folder(python: str) -> Iterator[Path]:
    place = Path(tempfile.mkdtemp(prefix="dlgrade-test-channel-"))
    place.chmod(0o755)
    yield place
    shutil.rmtree(place, ignore_errors=True)


def start(
    python: str, code: str, *args: str, uid: int = SANDBOX_UID
) -> tuple[subprocess.Popen[bytes], int]:
    proc = subprocess.Popen(
        [python, "-c", code, *args],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        user=uid, group=uid, extra_groups=[],
    )  # fmt: skip
    return proc, os.pidfd_open(proc.pid)


def finish(proc: subprocess.Popen[bytes], pidfd: int) -> None:
    proc.kill()
    proc.wait()
    os.close(pidfd)
    for pipe in (proc.stdin, proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()


def test_the_runner_speaks_over_the_socket_and_nobody_else_can_connect(
    folder: Path, python: str
) -> None:
    listener = Listener(folder, SANDBOX_UID)
    sandbox_path = listener.runner_argv([])[-1]
    assert sandbox_path == f"/sandbox/{listener.name}"
    relayed = None
    proc, pidfd = start(python, RUNNER, str(REPO_ROOT / "grader"), str(listener.path))
    try:
        relayed = proc.stdin, proc.stdout
        listener.connect(proc, pidfd)
        # The pipes are replaced by the two connections, and the relayed ones closed.
        assert relayed[0].closed and relayed[1].closed
        assert proc.stdin.fileno() != proc.stdout.fileno()
        proc.stdin.write(b"request one")
        proc.stdin.flush()
        assert proc.stdout.read1(100) == b"REQUEST ONE"
        # The socket file is gone and its listener closed: no second connection.
        assert not listener.path.exists() and list(folder.iterdir()) == []
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        with pytest.raises(OSError):
            probe.connect(str(listener.path))
        probe.close()
        # Closing the requests' end is the runner's end of input, as with a pipe.
        proc.stdin.close()
        assert proc.wait(timeout=30) == 0
    finally:
        finish(proc, pidfd)


def test_a_connection_from_another_uid_is_refused(folder: Path, python: str) -> None:
    listener = Listener(folder, SANDBOX_UID)
    waiting, pidfd = start(python, "import time; time.sleep(60)")
    intruder, intruder_pidfd = start(
        python, RUNNER, str(REPO_ROOT / "grader"), str(listener.path), uid=0
    )
    try:
        with pytest.raises(SandboxUnavailable, match="from uid 0"):
            listener.connect(waiting, pidfd)
        assert not listener.path.exists()
    finally:
        finish(waiting, pidfd)
        finish(intruder, intruder_pidfd)


def test_a_wrong_tag_is_refused(folder: Path, python: str) -> None:
    listener = Listener(folder, SANDBOX_UID)
    code = (
        "import socket, sys, time\n"
        "s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b'!')\n"
        "time.sleep(60)\n"
    )
    proc, pidfd = start(python, code, str(listener.path))
    try:
        with pytest.raises(SandboxUnavailable, match="with tag b'!'"):
            listener.connect(proc, pidfd)
    finally:
        finish(proc, pidfd)


def test_a_sandbox_that_ends_before_connecting_is_a_platform_fault(
    folder: Path, python: str
) -> None:
    listener = Listener(folder, SANDBOX_UID)
    proc, pidfd = start(python, "import sys; print('no runner here', file=sys.stderr); sys.exit(3)")
    try:
        with pytest.raises(SandboxUnavailable, match="ended before its runner connected"):
            listener.connect(proc, pidfd)
        assert not listener.path.exists()
    finally:
        finish(proc, pidfd)


def test_a_folder_whose_path_is_too_long_for_a_socket_is_refused(folder: Path) -> None:
    deep = folder / ("d" * 120)
    deep.mkdir()
    with pytest.raises(SandboxUnavailable, match="too long"):
        Listener(deep, SANDBOX_UID)
