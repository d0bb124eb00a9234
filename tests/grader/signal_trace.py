"""The signal trace: every reap and every signal aimed by number, in this process.

Used by ``tests/grader/conftest.py`` (every test under tests/grader) and, for
the grader run as a subprocess (``python -m grader.cli`` in the red-team
suite), by ``signal_trace_site/sitecustomize.py``. See the conftest for the
rule it enforces.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPORT_DIR_VARIABLE = "DLGRADE_SIGNAL_TRACE_DIR"


SANDBOX_CGROUP = "/dlgrade/"  # cgroups.CGROUP_PARENT, as a path component


def _in_sandbox_cgroup(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cgroup") as fh:
            return SANDBOX_CGROUP in fh.read()
    except OSError:
        return False


def _where() -> str:
    """The caller outside this file and the standard library: who sent the signal."""
    frames = [
        f
        for f in traceback.extract_stack()[:-2]
        if f.filename != __file__ and "/lib/python3" not in f.filename
    ]
    return " <- ".join(f"{os.path.basename(f.filename)}:{f.lineno} {f.name}" for f in frames[-4:])


@dataclass
class SignalTrace:
    """Per pid: reaped here (and how), and every signal aimed at a pid after that."""

    reaped: dict[int, str] = field(default_factory=dict)
    ever_reaped: set[int] = field(default_factory=set)
    signals: int = 0
    violations: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def spawned(self, pid: int) -> None:
        with self.lock:
            self.reaped.pop(pid, None)  # our own child now holds the number

    def reap(self, pid: int, how: str) -> None:
        if pid > 0:
            with self.lock:
                self.reaped[pid] = how
                self.ever_reaped.add(pid)

    def aim(self, what: str, pid: int, *, member_ok: bool = False) -> None:
        with self.lock:
            self.signals += 1
            if pid in (0, -1) and what != "pidfd_open":
                self.violations.append(f"{what}({pid}): a broadcast signal, at {_where()}")
                return
            how = self.reaped.get(abs(pid))
        if how is None or (member_ok and _in_sandbox_cgroup(abs(pid))):
            return
        with self.lock:
            self.violations.append(
                f"{what}({pid}) after pid {abs(pid)} was reaped by {how}, at {_where()}"
            )


def _exited(status: int) -> bool:
    return os.WIFEXITED(status) or os.WIFSIGNALED(status)


def install(trace: SignalTrace, patch: Callable[[object, str, object], None] = setattr) -> None:
    """Wrap this process's reaping and signalling functions so that ``trace`` sees them."""
    real: dict[str, Callable[..., Any]] = {
        name: getattr(os, name)
        for name in ("kill", "killpg", "pidfd_open", "waitpid", "wait", "wait3", "wait4", "waitid")
        if hasattr(os, name)
    }
    real_fork = os.fork
    real_handle = subprocess.Popen._handle_exitstatus  # type: ignore[attr-defined]
    real_execute = subprocess.Popen._execute_child  # type: ignore[attr-defined]

    def kill(pid: int, sig: int) -> None:
        trace.aim("kill", pid)
        real["kill"](pid, sig)

    def killpg(pgid: int, sig: int) -> None:
        trace.aim("killpg", pgid)
        real["killpg"](pgid, sig)

    def pidfd_open(pid: int, flags: int = 0) -> int:
        trace.aim("pidfd_open", pid, member_ok=True)
        return real["pidfd_open"](pid, flags)

    def waitpid(pid: int, options: int) -> tuple[int, int]:
        done = real["waitpid"](pid, options)
        if done[0] > 0 and _exited(done[1]):
            trace.reap(done[0], "os.waitpid")
        return done

    def wait() -> tuple[int, int]:
        done = real["wait"]()
        if _exited(done[1]):
            trace.reap(done[0], "os.wait")
        return done

    def wait3(options: int) -> Any:
        done = real["wait3"](options)
        if done[0] > 0 and _exited(done[1]):
            trace.reap(done[0], "os.wait3")
        return done

    def wait4(pid: int, options: int) -> Any:
        done = real["wait4"](pid, options)
        if done[0] > 0 and _exited(done[1]):
            trace.reap(done[0], "os.wait4")
        return done

    def waitid(idtype: int, ident: int, options: int) -> Any:
        done = real["waitid"](idtype, ident, options)
        exits = (os.CLD_EXITED, os.CLD_KILLED, os.CLD_DUMPED)
        if done is not None and not options & os.WNOWAIT and done.si_code in exits:
            trace.reap(done.si_pid, "os.waitid")
        return done

    def fork() -> int:
        pid = real_fork()
        if pid:
            trace.spawned(pid)
        return pid

    def handle_exitstatus(self: subprocess.Popen, *args: Any, **kwargs: Any) -> Any:
        # Popen.poll() reaps through an os.waitpid bound at import: seen here instead.
        trace.reap(self.pid, "Popen")
        return real_handle(self, *args, **kwargs)

    def execute_child(self: subprocess.Popen, *args: Any, **kwargs: Any) -> Any:
        done = real_execute(self, *args, **kwargs)
        trace.spawned(self.pid)
        return done

    wrappers = {
        "kill": kill,
        "killpg": killpg,
        "pidfd_open": pidfd_open,
        "waitpid": waitpid,
        "wait": wait,
        "wait3": wait3,
        "wait4": wait4,
        "waitid": waitid,
    }
    for name, wrapper in wrappers.items():
        if name in real:
            patch(os, name, wrapper)
    patch(os, "fork", fork)
    patch(subprocess.Popen, "_handle_exitstatus", handle_exitstatus)
    patch(subprocess.Popen, "_execute_child", execute_child)
    # signal.pidfd_send_signal aims at a pidfd, which names one process for good:
    # judged when the pidfd was opened.


def report_at_exit(folder: str) -> SignalTrace:
    """In a subprocess: trace it, and write what was seen to ``folder`` when it exits."""
    import atexit

    trace = SignalTrace()
    install(trace)

    def write() -> None:
        found = {"pid": os.getpid(), "signals": trace.signals, "violations": trace.violations}
        (Path(folder) / f"{os.getpid()}.json").write_text(json.dumps(found))

    atexit.register(write)
    return trace
