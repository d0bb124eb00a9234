"""Faults of the grading host, made on purpose: an outside kill of a runner, busy CPUs.

Every signal goes through a pidfd of a process this test process started (or a
descendant confirmed after its pidfd was opened), or through Docker by the
container's own label: never a pid found by name, which on a shared machine
could be anyone's.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from grader.sandbox.images import docker_cli
from grader.sandbox.owned import OwnedPid, OwnedProcess
from grader.sandbox.pool import READY, pooled_name_prefix

RUNNER_PATH = b"runner/runner.py"
# A runner started in a waiting pooled sandbox (``dlgrade grade`` starts its own that way,
# pool.head_start) runs in the interpreter of the pool's program: its command line is
# that program's, which writes READY.
POOLED_RUNNER = READY.strip()


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _child_pids(pid: int) -> set[int]:
    """Children of every thread of ``pid`` (a sandbox started from a grading thread is the
    child of that thread, listed under its task only)."""
    found: set[int] = set()
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in tasks:
        with contextlib.suppress(OSError, ValueError):
            text = Path(f"/proc/{pid}/task/{tid}/children").read_text()
            found.update(int(p) for p in text.split())
    return found


def _children(parent: OwnedPid) -> list[OwnedPid]:
    """Pidfds of ``parent``'s children, each still listed after its pidfd was opened."""
    if not parent.unreaped():
        return []
    owned = []
    for pid in _child_pids(parent.pid):
        try:
            pidfd = os.pidfd_open(pid)
        except OSError:
            continue
        if pid in _child_pids(parent.pid) and parent.unreaped():
            owned.append(OwnedPid(pid, pidfd))
        else:
            os.close(pidfd)
    return owned


def runner_below(root: OwnedPid) -> OwnedPid | None:
    """A pidfd of the runner among ``root``'s descendants (local sandbox), or None.

    Each step down keeps a child's pidfd only if the child is still listed after
    it was opened: then it names that child, not a process that took its number.
    """
    frontier = [root]
    found: OwnedPid | None = None
    seen: list[OwnedPid] = []
    while frontier and found is None:
        below = []
        for owned in frontier:
            for child in _children(owned):
                command = _cmdline(child.pid)
                if found is None and (RUNNER_PATH in command or POOLED_RUNNER in command):
                    found = child
                else:
                    below.append(child)
                    seen.append(child)
        frontier = below
    for owned in seen:
        owned.close()
    return found


def kill_local_runner(root: OwnedPid, after_s: float, timeout_s: float = 30) -> bool:
    """Wait for a runner below ``root``, let it work ``after_s``, SIGKILL it; True when done."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        runner = runner_below(root)
        if runner is not None:
            time.sleep(after_s)
            try:
                return runner.send(signal.SIGKILL)
            finally:
                runner.close()
        time.sleep(0.02)
    return False


def containers_labelled(label: str) -> list[str]:
    """Running containers of the grading labelled ``label``: a cold one by its label, one
    taken from a warm pool by the name it is given after its grading."""
    found = []
    for which in (f"label=dlgrade.label={label}", f"name={pooled_name_prefix(label)}"):
        done = docker_cli(["ps", "-q", "--filter", which, "--filter", "status=running"], timeout=30)
        found += done.stdout.decode().split()
    return found


def act_on_container(label: str, after_s: float, action: list[str], timeout_s: float = 60) -> bool:
    """Wait for a running container of ``label``, let it work ``after_s``, then ``docker
    ACTION... ID`` (``["kill", "-s", "KILL"]``, ``["rm", "-f"]``); True when done."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = containers_labelled(label)
        if found:
            time.sleep(after_s)
            return docker_cli([*action, found[0]], timeout=30).returncode == 0
        time.sleep(0.05)
    return False


def self_pid() -> OwnedPid:
    """A pidfd of this test process: the local sandboxes it starts are its descendants."""
    return OwnedPid(os.getpid(), os.pidfd_open(os.getpid()))


@contextlib.contextmanager
def busy_loops(per_core: int) -> Iterator[int]:
    """``per_core`` busy loops per core while the block runs; killed (by pidfd) after it."""
    count = per_core * (os.cpu_count() or 1)
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    # Taken before anyone could reap them: these pidfds name our loops and nothing else.
    owned = [OwnedProcess(p) for p in procs]
    try:
        yield count
    finally:
        for o in owned:
            o.send(signal.SIGKILL)
            o.proc.wait(10)
            o.close()


def run_and_kill(
    command: list[str], killer: Callable[[subprocess.Popen[bytes]], bool], timeout_s: float = 120
) -> tuple[int, bytes, bytes, bool]:
    """Run ``command`` while ``killer(proc)`` strikes; (status, stdout, stderr, struck)."""
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    struck = killer(proc)
    out, err = proc.communicate(timeout=timeout_s)
    return proc.returncode, out, err, struck
