"""Processes the grader started, held by a pidfd from the moment they exist.

A pid is only a number, handed out again as soon as its process is reaped
(pid_max is 32768 on our machines). ``Popen.poll()`` or ``wait()`` reaps, and
after that a signal to the bare pid, or to the process group of that number,
lands on whoever holds it now: a database, a worker, a shell and its children.

A pidfd names one process for good: a signal through it reaches that process
or fails with ESRCH once it has been reaped. So the sandboxes take a pidfd of
each process they start before ``start`` returns (nobody else has had the
``Popen`` yet, so nobody can have reaped it) and signal only through pidfds,
or through the submission's cgroup. The one bare-number signal left, to the
process group of the unprotected fallback, is sent only while holding
``Popen``'s own reaping lock with the leader seen unreaped.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import time


def wait_fd(fd: int, seconds: float, *, write: bool = False) -> bool:
    """Whether ``fd`` becomes readable (or writable) within ``seconds``.

    poll(), never select(): select() refuses descriptors numbered 1024 or more,
    and a worker that has run many gradings, or a test process, holds that many.
    """
    poller = select.poll()
    poller.register(fd, select.POLLOUT if write else select.POLLIN)
    return bool(poller.poll(max(0, int(seconds * 1000))))


class OwnedPid:
    """A pidfd for one process; every signal goes through it. ``close`` once done."""

    def __init__(self, pid: int, pidfd: int) -> None:
        self.pid = pid
        self.pidfd: int | None = pidfd

    def send(self, sig: int) -> bool:
        """Signal the process; False once it has been reaped (or this was closed)."""
        if self.pidfd is None:
            return False
        try:
            signal.pidfd_send_signal(self.pidfd, sig)
        except (ProcessLookupError, PermissionError):
            return False
        return True

    def unreaped(self) -> bool:
        """Running, or a zombie not yet reaped: either way the pid still names it."""
        return self.send(0)

    def exited(self) -> bool:
        """Whether the process has exited (a pidfd polls readable from then on)."""
        if self.pidfd is None:
            return True
        return wait_fd(self.pidfd, 0)

    def children(self) -> list[OwnedPid]:
        """Pidfds of this process's children, each confirmed a child after it was opened.

        /proc/PID is opened first and used only if the process is seen unreaped
        afterwards: then the folder is this process's, not a stranger's that
        took the number. A child's pidfd is kept only if the child is still
        listed after the pidfd was opened: then it names that child.
        """
        listed = self._child_pids()
        owned = []
        for pid in listed:
            try:
                pidfd = os.pidfd_open(pid)
            except OSError:
                continue
            if pid in self._child_pids():
                owned.append(OwnedPid(pid, pidfd))
            else:
                os.close(pidfd)
        return owned

    def _child_pids(self) -> list[int]:
        try:
            folder = os.open(f"/proc/{self.pid}", os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            return []
        try:
            if not self.unreaped():
                return []
            fd = os.open(f"task/{self.pid}/children", os.O_RDONLY, dir_fd=folder)
            with os.fdopen(fd) as fh:
                return [int(p) for p in fh.read().split()]
        except (OSError, ValueError):
            return []
        finally:
            os.close(folder)

    def close(self) -> None:
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None


class OwnedProcess(OwnedPid):
    """A child started with ``Popen``: its pidfd, taken before anyone could reap it."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        # Called right after Popen() returned, before the caller hands the Popen
        # to anyone: unreaped, so pidfd_open(pid) opens our child and no other.
        super().__init__(proc.pid, os.pidfd_open(proc.pid))
        self.proc = proc

    def signal_group(self, sig: int) -> bool:
        """Signal the process group this child leads (``start_new_session``), if still ours.

        A group has no pidfd. Its number stays ours while the leader is
        unreaped, so the signal is sent holding the lock ``Popen`` takes for
        every reap of its own, with the leader seen unreaped under that lock.
        False when that cannot be shown (then only pidfds and cgroups reach
        what is left).
        """
        lock = getattr(self.proc, "_waitpid_lock", None)
        if lock is None or not lock.acquire(timeout=1.0):
            return False
        try:
            if self.proc.returncode is not None or not self.unreaped():
                return False
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, sig)
            return True
        finally:
            lock.release()


def wait_exited(owned: list[OwnedPid], seconds: float) -> list[OwnedPid]:
    """Wait until each process has exited, at most ``seconds``; return those still running."""
    deadline = time.monotonic() + seconds
    left = [o for o in owned if not o.exited()]
    while left:
        timeout = deadline - time.monotonic()
        if timeout <= 0:
            break
        poller = select.poll()
        for o in left:
            poller.register(o.pidfd, select.POLLIN)
        poller.poll(timeout * 1000)
        left = [o for o in left if not o.exited()]
    return left
