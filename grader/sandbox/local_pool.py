"""A warm pool of single-use bubblewrap sandboxes, kept by a worker process.

The local sandbox's cold start is bubblewrap, the interpreter and numpy's import
(about 0.2 s of a 0.31 s activations grading on this 2-core host; a pooled one takes
0.05 s from the take to the loaded submission, README "Benchmarks"). A worker
that grades with ``--sandbox local`` can keep ``size`` of them per kind started
and waiting, as ``pool.ContainerPool`` keeps Docker containers:

- each is a ``LocalSandbox`` started as a grading's would be (the same
  bubblewrap flags, host view, uid, rlimits and a cgroup of its own with the
  same limits), whose /sandbox is a read-only bind of an empty folder of its own
  (its *slot*), running ``pool.WARM_PROGRAM``: the interpreter with numpy
  imported, no submission, reading its standard input for the word to go;
- while it starts and waits its cgroup weighs as little as the kernel allows
  (``SubmissionCgroup.set_idle``): the refill that follows a take runs on CPU
  no grading wants, and never slows the grading that took one;
- a grading takes one (its weight back to a sandbox's): the prepared folder is
  hard-linked into the slot (the bind shows what is added to it), then the
  program is told to run the runner;
- once taken it is the grading's alone and is killed with it, its cgroup
  removed: never handed to another grading.

A waiting sandbox needs no reaper of its own. bubblewrap runs with
``--die-with-parent``, and the parent is the thread that started it, so the
pool starts them only in its refill thread, which lives as long as the pool: a
worker that dies takes its waiting sandboxes with it, and ``reap_cgroups``
removes their groups by their owner's pid, as it removes a grading's.

What the pool changes for the submission: nothing it can observe but time, as
with the Docker pool. The import of numpy before it counts toward the
process's RLIMIT_CPU and the cgroup's CPU time, not toward any call's limit.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import shutil
import subprocess
import time
from pathlib import Path

from grader.sandbox.base import SandboxSpec, SandboxUnavailable
from grader.sandbox.local import LocalSandbox
from grader.sandbox.pool import (
    PREIMPORTS,
    READY_TIMEOUT_S,
    WARM_PROGRAM,
    WarmPool,
    _read_ready,
    hand_over,
)

log = logging.getLogger(__name__)


@dataclasses.dataclass
class WarmLocal:
    box: LocalSandbox  # holds its process (by a pidfd) and its cgroup until taken
    proc: subprocess.Popen[bytes]
    slot: Path
    started: float  # time.monotonic()


def _kill(waiting: list[WarmLocal]) -> None:
    for warm in waiting:
        warm.box.close()  # kills the process and its cgroup's members, removes the group
        shutil.rmtree(warm.slot, ignore_errors=True)


class LocalPool(WarmPool):
    """``size`` started bubblewrap sandboxes per kind, refilled in the background."""

    starts_in_thread = True

    def __init__(
        self,
        size: int = 2,
        *,
        idle_s: float = 300.0,
        max_wait_s: float = 600.0,
        tick_s: float = 1.0,
        once: bool = False,
        idle_weight: bool = True,
    ) -> None:
        """``idle_weight`` False: a sandbox starts at a grading's weight (``head_start``:
        the grading is waiting for it, nothing runs beside it to protect)."""
        # Every sandbox starting or waiting: none is in between, for waiting_pids().
        self._held: list[LocalSandbox] = []
        self.idle_weight = idle_weight
        # Always with its refill thread: only that thread may start them.
        super().__init__(
            size, idle_s=idle_s, max_wait_s=max_wait_s, tick_s=tick_s, refill=True, once=once
        )

    def take(self, spec: SandboxSpec) -> WarmLocal | None:
        warm = super().take(spec)
        if warm is not None:
            self._let_go([warm])
            for group in warm.box.groups:
                group.set_idle(False)  # a grading's now: it weighs as any other
        return warm

    def _discard(self, waiting: list[WarmLocal]) -> None:
        self._let_go(waiting)
        _kill(waiting)

    def _let_go(self, waiting: list[WarmLocal]) -> None:
        with self._lock:
            for warm in waiting:
                with contextlib.suppress(ValueError):
                    self._held.remove(warm.box)

    def waiting_pids(self) -> set[int]:
        """The processes of the sandboxes starting or waiting now: bubblewrap and its group's."""
        with self._lock:
            boxes = list(self._held)
        pids = set()
        for box in boxes:
            pids.update(owned.proc.pid for owned in box.procs)
            for group in box.groups:
                pids.update(group.members())
        return pids

    def _start(self, spec: SandboxSpec) -> WarmLocal | None:
        slot = self._new_slot()
        box = LocalSandbox(dataclasses.replace(spec, root=slot, label="pool"))
        if not box.bwrap or box.driver is not None:
            # Unprotected (paths are the host's, known only at the grading) or holding a
            # GPU while it waits: such sandboxes start cold, never from a pool.
            box.close()
            shutil.rmtree(slot, ignore_errors=True)
            return None
        preimports = PREIMPORTS.get(spec.environment, ("numpy",))
        with self._lock:
            self._held.append(box)
        try:
            proc = box.start(["python3", "-c", WARM_PROGRAM, *preimports])
            self._spawned.set()
            # Started after a take, while that grading runs: it must not slow it down.
            for group in box.groups if self.idle_weight else ():
                group.set_idle(True)
            warm = WarmLocal(box, proc, slot, time.monotonic())
            ready = _read_ready(proc, READY_TIMEOUT_S)
        except (OSError, SandboxUnavailable) as exc:
            with self._lock:
                self._held.remove(box)
            box.close()
            shutil.rmtree(slot, ignore_errors=True)
            raise SandboxUnavailable(f"could not start a pooled sandbox: {exc}") from None
        if not ready:
            err = b""
            with contextlib.suppress(OSError, ValueError):
                if proc.poll() is not None and proc.stderr is not None:
                    err = proc.stderr.read(2000)
            log.warning("pooled sandbox did not start: %s", err.decode(errors="replace"))
            self._discard([warm])
            return None
        return warm


class PooledLocalSandbox(LocalSandbox):
    """A local sandbox whose starts take a waiting one from ``pool`` when one waits.

    Without one it starts cold, exactly as ``LocalSandbox`` does. Either way
    ``kill`` ends every process and cgroup it started or took.
    """

    def __init__(self, spec: SandboxSpec, pool: WarmPool, **kwargs: object) -> None:
        super().__init__(spec, **kwargs)  # type: ignore[arg-type]
        self.pool = pool
        self.pooled_starts = 0
        self.slots: list[Path] = []

    def start(self, argv: list[str]) -> subprocess.Popen[bytes]:
        warm = self.pool.take(self.spec) if self.bwrap and self.driver is None else None
        if warm is None:
            return super().start(argv)
        # From here its process and cgroup are this sandbox's: kill() ends them.
        self.procs += warm.box.procs
        self.groups += warm.box.groups
        self.last_group = warm.box.last_group
        warm.box.procs.clear()
        warm.box.groups.clear()
        self.slots.append(warm.slot)
        self.starts += 1
        try:
            hand_over(warm.proc, Path(self.spec.root), warm.slot, argv)
        except (OSError, ValueError) as exc:
            self.kill()
            raise SandboxUnavailable(f"could not hand the pooled sandbox its work: {exc}") from None
        self.pooled_starts += 1
        return warm.proc

    def kill(self) -> None:
        super().kill()
        for slot in self.slots:
            shutil.rmtree(slot, ignore_errors=True)
        self.slots.clear()

    def describe(self) -> dict[str, object]:
        return {**super().describe(), "pooled_starts": self.pooled_starts}


__all__ = ["LocalPool", "PooledLocalSandbox", "WarmLocal"]
