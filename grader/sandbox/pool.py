"""A warm pool of single-use Docker sandboxes, kept by a worker process.

A cold Docker grading pays, before its first check, for creating and starting
a container and for the interpreter importing the environment's libraries
(numpy; torch for a torch environment). A worker with a pool keeps ``size``
containers per kind of sandbox (environment, limits, GPU) started and waiting:

- each is a container of ``DockerSandbox.run_argv``: the same image, limits,
  flags, labels and read-only root, no network; its /sandbox is a bind mount of
  an empty host folder of its own (its *slot*), read-only inside;
- what waits in it is ``WARM_PROGRAM``: the interpreter with the environment's
  libraries imported, no submission (none exists yet), reading its standard
  input for the word to go;
- a grading takes one (``PooledDockerSandbox.start``): the prepared folder is
  hard-linked into the slot, then the waiting program is told which program to
  run (the runner, in the same interpreter: nothing is imported twice);
- once taken, a container is the grading's alone and is removed with it, as a
  cold one is: never handed to another grading. It is renamed after the
  grading's label (``pooled_name_prefix``), so that the reaper, finding the
  grading's lease expired, removes it as it removes a cold one by its label.

A thread refills the pool in the background after each take, retires a
container that waited longer than ``max_wait_s`` (so no waiting container
approaches the age at which ``reap_orphans`` judges one orphaned), and lets a
kind go when no grading has asked for it for ``idle_s``. A waiting container
stops with its worker: when the worker's end of its standard input closes, the
program reads end-of-file and exits. Every pooled container carries
``dlgrade.pool=<host>:<pid>:<start time>:<token>``, and ``reap_pools`` (the
worker's reaper) removes those whose worker process on this host is gone,
stopped or still running (the Docker client killed or stuck along with the
worker).

What the pool changes for the submission: nothing it can observe but time. Its
program runs as ``python3 /sandbox/runner/runner.py /sandbox`` would (same
``sys.argv``, ``sys.path[0]`` and ``__main__``), in an interpreter that has
already imported numpy (which the runner imports first anyway); the CPU time of
that import counts toward the container's RLIMIT_CPU as it always did.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import secrets
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from grader.sandbox.base import SandboxLimits, SandboxSpec, SandboxUnavailable
from grader.sandbox.docker import DockerSandbox, _require_engine, channel_for
from grader.sandbox.images import cli_env, docker_cli
from grader.sandbox.owned import OwnedProcess, wait_fd

log = logging.getLogger(__name__)

LABEL_POOL = "dlgrade.pool"
READY = b"dlgrade-pool-ready\n"
GO = b"dlgrade-pool-go\n"
# What each environment's waiting interpreter imports: what the runner and the
# course's homework import first. matplotlib is left out on purpose: it reads
# MPLBACKEND and MPLCONFIGDIR when imported, which the runner sets for the grading.
# The runner's own standard-library imports come first (shutil alone loads the bz2 and
# lzma extensions): a cold runner imports them all before the submission too, so the
# submission finds the same modules loaded either way.
RUNNER_STDLIB = (
    "contextlib", "copy", "shutil", "threading", "traceback", "types", "struct", "typing",
    "importlib.util",
)  # fmt: skip
PREIMPORTS: dict[str, tuple[str, ...]] = {
    "numpy": (*RUNNER_STDLIB, "numpy"),
    "torch": (*RUNNER_STDLIB, "numpy", "torch"),
}
# Seconds a container may take to start and import its libraries before it is given up.
READY_TIMEOUT_S = 120.0
# Seconds a head start waits for its sandbox's process to be spawned (a few ms on an
# idle host) before the command line goes on with its own imports regardless.
SPAWN_WAIT_S = 5.0

# Runs as PID 1's child in the waiting container (python3 -c). Only the trusted side
# writes to its standard input; nothing of a submission exists in it until GO.
WARM_PROGRAM = f"""
import json, os, runpy, struct, sys
for name in sys.argv[1:]:
    try:
        __import__(name)
    except ImportError:
        pass
def read_exactly(n):
    data = b""
    while len(data) < n:
        chunk = os.read(0, n - len(data))
        if not chunk:
            os._exit(0)  # let go unused, or its worker died: nothing to do
        data += chunk
    return data
os.write(1, {READY!r})
if read_exactly({len(GO)}) != {GO!r}:
    os._exit(3)
argv = json.loads(read_exactly(struct.unpack(">I", read_exactly(4))[0]))
if len(argv) > 1 and argv[0] == "python3" and argv[1].endswith(".py"):
    sys.argv = argv[1:]
    sys.path[0] = os.path.dirname(argv[1])
    runpy.run_path(argv[1], run_name="__main__")
else:
    os.execvp(argv[0], argv)
"""


def _start_ticks(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot), or None when there is none."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: count from its end.
    return stat.rsplit(")", 1)[1].split()[19]


def owner_id(pid: int | None = None) -> str:
    """This worker process, as no other process on any host is: host, pid and start time."""
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}:{pid}:{_start_ticks(pid)}"


def owner_alive(owner: str) -> bool | None:
    """Whether the process named by ``owner`` still runs; None when it is another host's.

    ``owner`` is ``owner_id()``, or a pool's label: ``owner_id()`` and a token of its own.
    """
    parts = owner.split(":")
    if len(parts) == 4:
        parts = parts[:3]
    if len(parts) != 3:
        return False  # not a name a pool wrote: nobody owns it
    host, pid, ticks = parts
    if host != socket.gethostname():
        return None
    return pid.isdigit() and _start_ticks(int(pid)) == ticks


@dataclasses.dataclass(frozen=True)
class PoolKind:
    """What makes two waiting containers interchangeable."""

    environment: str
    limits: SandboxLimits
    gpu: bool


def kind_of(spec: SandboxSpec) -> PoolKind:
    return PoolKind(spec.environment, spec.limits, spec.gpu)


@dataclasses.dataclass
class WarmContainer:
    name: str
    owned: OwnedProcess
    slot: Path
    started: float  # time.monotonic()
    engine: dict = dataclasses.field(default_factory=dict)  # ``docker info`` when it started

    @property
    def cid(self) -> Path:
        """Where ``docker run --cidfile`` wrote its id: the grading's CPU meter finds it so."""
        return self.slot.with_name(self.slot.name + ".cid")

    @property
    def proc(self) -> subprocess.Popen[bytes]:
        return self.owned.proc


def _read_ready(proc: subprocess.Popen[bytes], seconds: float) -> bool:
    """Read exactly READY from the container's output (nothing more: the session reads on)."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    seen = b""
    deadline = time.monotonic() + seconds
    while len(seen) < len(READY):
        left = deadline - time.monotonic()
        if left <= 0 or not wait_fd(fd, left):
            return False
        chunk = os.read(fd, len(READY) - len(seen))
        if not chunk:
            return False
        seen += chunk
    return seen == READY


def _remove(containers: list[WarmContainer]) -> None:
    if not containers:
        return
    for warm in containers:
        with contextlib.suppress(OSError, ValueError):
            if warm.proc.stdin is not None:
                warm.proc.stdin.close()  # the program reads end-of-file and exits
    with contextlib.suppress(SandboxUnavailable):
        docker_cli(["rm", "-f", *(w.name for w in containers)], timeout=60)
    for warm in containers:
        with contextlib.suppress(subprocess.TimeoutExpired):
            warm.proc.wait(timeout=10)
        for pipe in (warm.proc.stdout, warm.proc.stderr):
            with contextlib.suppress(OSError, ValueError):
                if pipe is not None:
                    pipe.close()
        warm.owned.close()
        shutil.rmtree(warm.slot, ignore_errors=True)
        warm.cid.unlink(missing_ok=True)


def _remove_stopped(names: list[str], slots: list[Path]) -> None:
    try:
        docker_cli(["rm", "-f", *names], timeout=60)
    except SandboxUnavailable as exc:
        # Stopped, so harmless; reap_pools removes them once this process is gone.
        log.warning("could not remove stopped pooled containers %s: %s", names, exc)
    for slot in slots:
        shutil.rmtree(slot, ignore_errors=True)
        slot.with_name(slot.name + ".cid").unlink(missing_ok=True)


class WarmPool:
    """``size`` started sandboxes per kind, refilled in the background; see the module.

    What is kept waiting, and how it goes, is the subclass's: ``_start`` one for a
    spec (None when it did not start), ``_discard`` some that will never be used.
    Each waiting one has ``proc`` (its program, reading its standard input for the
    word to go), ``slot`` (its empty /sandbox folder) and ``started``.
    """

    # Whether the refill thread alone may start sandboxes (fill() waits for it): a
    # process started by a thread dies with that thread under --die-with-parent.
    starts_in_thread = False

    def __init__(
        self,
        size: int = 2,
        *,
        idle_s: float = 300.0,
        max_wait_s: float = 600.0,
        tick_s: float = 1.0,
        refill: bool = True,
        once: bool = False,
    ) -> None:
        """``refill`` False: no background thread; only ``fill`` starts containers.

        ``once``: a pool for the grading about to run in this process (``head_start``):
        a kind asked for by ``prime`` is started once, a take never asks for more,
        and a take waits for the one still starting (it started ahead of the
        grading: it is nearer ready than a cold start would be).
        """
        self.size = size
        self.once = once
        self.idle_s = idle_s
        self.max_wait_s = max_wait_s
        self.tick_s = tick_s
        # This pool's label: the process that owns it (reap_pools checks it is alive),
        # and a token, so that two pools of one process are told apart.
        self.owner = f"{owner_id()}:{secrets.token_hex(4)}"
        self.slots = Path(tempfile.mkdtemp(prefix="dlgrade-pool-"))
        os.chmod(self.slots, 0o755)
        self._ready: dict[PoolKind, collections.deque] = {}
        self._asked: dict[PoolKind, tuple[float, SandboxSpec]] = {}
        self._starting: dict[PoolKind, int] = {}
        self._doomed: list[tuple[list[str], list[Path]]] = []  # stopped, to remove
        # A condition, so that a take in a ``once`` pool can wait for a start to end.
        self._lock = threading.Condition()
        self._wake = threading.Event()
        self._stopped = threading.Event()
        # Set once a start has spawned its process (or given up): see ``wait_spawned``.
        self._spawned = threading.Event()
        self.taken = 0  # containers handed to gradings
        self.missed = 0  # gradings that found none waiting (and started cold)
        self._thread = threading.Thread(target=self._keep, name="dlgrade-pool", daemon=True)
        if refill:
            self._thread.start()

    # -- gradings ---------------------------------------------------------------------
    def take(self, spec: SandboxSpec):  # -> the subclass's waiting sandbox, or None
        """A waiting sandbox for ``spec``'s kind, now its caller's alone; None if none waits."""
        kind = kind_of(spec)
        dead = []
        found = None
        with self._lock:
            if self.once:
                deadline = time.monotonic() + READY_TIMEOUT_S
                while not self._ready.get(kind) and (
                    kind in self._asked or self._starting.get(kind, 0) > 0
                ):
                    left = deadline - time.monotonic()
                    if left <= 0 or self._stopped.is_set():
                        break
                    self._lock.wait(min(left, 1.0))
            else:
                self._asked[kind] = (time.monotonic(), spec)
            ready = self._ready.get(kind, collections.deque())
            while ready:
                warm = ready.popleft()
                if warm.proc.poll() is None:
                    found = warm
                    break
                dead.append(warm)  # removed underneath (a reaper, the engine): not usable
            if found is not None:
                self.taken += 1
            else:
                self.missed += 1
        self._wake.set()
        self._discard(dead)
        return found

    def fill(self, spec: SandboxSpec, timeout_s: float = READY_TIMEOUT_S) -> int:
        """Start containers for ``spec``'s kind until ``size`` wait; return how many wait.

        For a worker's start and for tests: the background thread does the same after a take.
        """
        kind = kind_of(spec)
        with self._lock:
            self._asked[kind] = (time.monotonic(), spec)
        if self.starts_in_thread and not self._thread.is_alive():
            raise RuntimeError("this pool starts its sandboxes in its refill thread: none runs")
        deadline = time.monotonic() + timeout_s
        while self.waiting(kind) < self.size and time.monotonic() < deadline:
            with self._lock:
                # Asked for as long as this waits: a start slower than idle_s (a busy
                # host, an idle weight) must not see its kind let go meanwhile.
                self._asked[kind] = (time.monotonic(), spec)
            if self.starts_in_thread:
                self._wake.set()
                time.sleep(0.02)
            elif not self._add(kind, spec):
                time.sleep(0.1)  # the background thread is starting the one missing
        return self.waiting(kind)

    def prime(self, spec: SandboxSpec) -> None:
        """Have the background thread start ``spec``'s kind now; return at once."""
        with self._lock:
            self._asked[kind_of(spec)] = (time.monotonic(), spec)
        self._wake.set()

    def wait_spawned(self, timeout_s: float) -> bool:
        """Wait until a start has spawned its sandbox's process, or given up trying.

        The spawn (cgroups, bubblewrap's fork, or the Docker client's) is a few
        milliseconds of this process's own work, but only while no other thread
        wants the interpreter's lock: run beside the command line's import of numpy
        it took 50 to 70 ms on a 2-core host (bubblewrap), handing the lock back and
        forth. Once it is spawned, the sandbox starts in processes of its own, beside
        anything.
        """
        return self._spawned.wait(timeout_s)

    def waiting(self, kind: PoolKind | None = None) -> int:
        with self._lock:
            if kind is not None:
                return len(self._ready.get(kind, ()))
            return sum(len(q) for q in self._ready.values())

    def close(self) -> None:
        """Stop refilling and remove every waiting container."""
        self._stopped.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        with self._lock:
            left = [w for q in self._ready.values() for w in q]
            self._ready.clear()
            doomed, self._doomed = self._doomed, []
        self._discard(left)
        for names, slots in doomed:
            _remove_stopped(names, slots)
        shutil.rmtree(self.slots, ignore_errors=True)

    def _start(self, spec: SandboxSpec):  # -> a waiting sandbox, or None
        raise NotImplementedError

    def _new_slot(self, name: str | None = None) -> Path:
        """An empty folder of this pool's, readable by the sandbox: one waiting /sandbox."""
        slot = self.slots / (name or f"slot-{secrets.token_hex(6)}")
        slot.mkdir(mode=0o755)
        os.chmod(slot, 0o755)
        return slot

    def _discard(self, waiting: list) -> None:
        raise NotImplementedError

    # -- the background thread ----------------------------------------------------------
    def _add(self, kind: PoolKind, spec: SandboxSpec) -> bool:
        """Start one container for ``kind`` unless enough wait or are starting; True if tried."""
        with self._lock:
            if len(self._ready.get(kind, ())) + self._starting.get(kind, 0) >= self.size:
                return False
            self._starting[kind] = self._starting.get(kind, 0) + 1
        warm = None
        try:
            warm = self._start(spec)
        except (OSError, SandboxUnavailable) as exc:
            if self.once:  # the grading starts its own, and says why if that fails too
                log.debug("could not start a sandbox ahead of its grading: %s", exc)
            else:
                log.warning("could not start a pooled container: %s", exc)
                self._stopped.wait(5.0)  # an engine away: do not spin
        finally:
            self._spawned.set()  # tried, whatever came of it: nobody waits for more
            with self._lock:
                self._starting[kind] -= 1
                if warm is not None and not self._stopped.is_set():
                    self._ready.setdefault(kind, collections.deque()).append(warm)
                    warm = None
                if self.once:
                    self._asked.pop(kind, None)  # tried once, started or not: no more
                self._lock.notify_all()
        if warm is not None:
            self._discard([warm])  # the pool closed meanwhile
        return True

    def _keep(self) -> None:
        while not self._stopped.is_set():
            self._wake.wait(self.tick_s)
            self._wake.clear()
            now = time.monotonic()
            retired: list[WarmContainer] = []
            wanted: list[tuple[PoolKind, SandboxSpec]] = []
            with self._lock:
                doomed, self._doomed = self._doomed, []
            for names, slots in doomed:
                _remove_stopped(names, slots)
            with self._lock:
                for kind, (asked, spec) in list(self._asked.items()):
                    ready = self._ready.setdefault(kind, collections.deque())
                    if now - asked > self.idle_s:
                        # Nobody graded this kind for a while: let it go (memory back).
                        retired += ready
                        ready.clear()
                        del self._asked[kind]
                        continue
                    for warm in list(ready):
                        if now - warm.started > self.max_wait_s or warm.proc.poll() is not None:
                            ready.remove(warm)
                            retired.append(warm)
                    if len(ready) < self.size:
                        wanted.append((kind, spec))
            self._discard(retired)
            for kind, spec in wanted:
                if self._stopped.is_set():
                    break
                self._add(kind, spec)
                if self.waiting(kind) < self.size:
                    self._wake.set()  # one at a time: a grading may take meanwhile


class ContainerPool(WarmPool):
    """``size`` started Docker containers per kind, refilled in the background; see the module."""

    def names(self) -> list[str]:
        """The containers waiting now."""
        with self._lock:
            return [w.name for q in self._ready.values() for w in q]

    def remove_later(self, names: list[str], slots: list[Path]) -> None:
        """Remove stopped containers (and their slots) in the background; now without one."""
        if not self._thread.is_alive():
            _remove_stopped(names, slots)
            return
        with self._lock:
            self._doomed.append((names, slots))
        self._wake.set()

    def _discard(self, waiting: list[WarmContainer]) -> None:
        _remove(waiting)

    def _start(self, spec: SandboxSpec) -> WarmContainer | None:
        info = _require_engine()
        name = f"dlgrade-pool-{secrets.token_hex(6)}"
        slot = self._new_slot(name)
        box = DockerSandbox(dataclasses.replace(spec, root=slot, label="pool"))
        preimports = PREIMPORTS.get(spec.environment, ("numpy",))
        argv = box.run_argv(
            name,
            ["python3", "-c", WARM_PROGRAM, *preimports],
            swap_limit=bool(info.get("SwapLimit")),
        )
        # After "docker run": the pool's label, and the id file the time limits' CPU meter reads.
        argv[2:2] = ["--label", f"{LABEL_POOL}={self.owner}", "--cidfile", f"{slot}.cid"]
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=cli_env(),
            start_new_session=True,
        )
        self._spawned.set()
        warm = WarmContainer(name, OwnedProcess(proc), slot, time.monotonic(), info)
        if not _read_ready(proc, READY_TIMEOUT_S):
            err = b""
            with contextlib.suppress(OSError, ValueError):
                if proc.poll() is not None and proc.stderr is not None:
                    err = proc.stderr.read(2000)
            log.warning("pooled container %s did not start: %s", name, err.decode(errors="replace"))
            _remove([warm])
            return None
        return warm


def pooled_name_prefix(label: str) -> str:
    """How a taken container's name begins: a digest of its grading's ``dlgrade.label``.

    A pooled container was started before its grading existed, so it cannot carry
    the grading's label (Docker labels are fixed at creation); its name can.
    """
    return f"dlgrade-run-{hashlib.sha256(label.encode()).hexdigest()[:16]}-"


def _header(argv: list[str]) -> bytes:
    body = json.dumps(argv).encode()
    return GO + struct.pack(">I", len(body)) + body


def hand_over(proc: subprocess.Popen[bytes], root: Path, slot: Path, argv: list[str]) -> None:
    """Give a waiting sandbox its grading: the prepared folder hard-linked into its slot,
    then the word to run ``argv``. Raises OSError or ValueError when either fails."""
    _link_tree(root, slot)
    assert proc.stdin is not None
    proc.stdin.write(_header(argv))
    proc.stdin.flush()


def _link_tree(src: Path, dest: Path) -> None:
    """Hard-link (copy across file systems) the prepared folder into a container's slot."""
    for path in sorted(src.rglob("*")):
        out = dest / path.relative_to(src)
        if path.is_dir() and not path.is_symlink():
            out.mkdir(mode=0o755)
            os.chmod(out, 0o755)
            continue
        if path.is_symlink():
            continue  # the engine makes none; a link would point outside the mount anyway
        try:
            os.link(path, out)
        except OSError:
            shutil.copyfile(path, out)
            os.chmod(out, 0o644)


class PooledDockerSandbox(DockerSandbox):
    """A Docker sandbox whose starts take a waiting container from ``pool`` when one waits.

    Without one it starts cold, exactly as ``DockerSandbox`` does. Either way
    ``kill`` removes every container it started or took.
    """

    def __init__(self, spec: SandboxSpec, pool: ContainerPool, **kwargs: object) -> None:
        super().__init__(spec, **kwargs)  # type: ignore[arg-type]
        self.pool = pool
        self.pooled_starts = 0
        self.cold_starts = 0
        self.slots: list[Path] = []
        self.renames: list[threading.Thread] = []
        self.pooled_names: list[str] = []  # the pooled containers' names as the pool knew them
        self.names_lock = threading.Lock()

    def start(self, argv: list[str]) -> subprocess.Popen[bytes]:
        warm = self.pool.take(self.spec)
        if warm is None:
            self.cold_starts += 1
            return super().start(argv)
        # From here the container is this sandbox's: kill() removes it whatever happens.
        self.containers.append(warm.name)
        self.procs.append(warm.owned)
        self.slots.append(warm.slot)
        self.latest = warm.name  # what oom_kills() and vanished() ask Docker about
        self.latest_oom_killed = self.latest_vanished = self.latest_inspected = False
        self.latest_cid, self.latest_meter = warm.cid, None  # its CPU time: the time limits
        self.pooled_names.append(warm.name)
        listener = channel_for(warm.engine, warm.slot, argv)
        try:
            hand_over(warm.proc, Path(self.spec.root), warm.slot,
                      argv if listener is None else listener.runner_argv(argv))  # fmt: skip
        except (OSError, ValueError) as exc:
            if listener is not None:
                listener.close()
            self.kill()
            raise SandboxUnavailable(
                f"could not hand the pooled container its work: {exc}"
            ) from None
        if listener is not None:
            self.connect_channel(listener, warm.proc)
        self.pooled_starts += 1
        # Named after its grading, in the background (a Docker call the grading need not
        # wait for): a reaper that finds the grading's lease expired finds it by name.
        renaming = threading.Thread(target=self._rename, args=(warm.name,), daemon=True)
        renaming.start()
        self.renames.append(renaming)
        return warm.proc

    def _rename(self, name: str) -> None:
        new = f"{pooled_name_prefix(self.spec.label)}{secrets.token_hex(4)}"
        try:
            done = docker_cli(["rename", name, new], timeout=60)
        except SandboxUnavailable as exc:
            log.warning("could not rename pooled container %s: %s", name, exc)
            return
        if done.returncode == 0:
            with self.names_lock:
                self.containers[self.containers.index(name)] = new
                if self.latest == name:
                    self.latest = new

    def settled_names(self) -> list[str]:
        """The containers' names once every renaming has ended."""
        for renaming in self.renames:
            renaming.join(timeout=60)
        self.renames.clear()
        return list(self.containers)

    def _all_ended(self) -> bool:
        """Whether every client ended on its own (none is signalled or waited on here)."""
        return all(owned.proc.poll() is not None for owned in self.procs)

    def _inspect_latest(self) -> None:
        # Asked by name: an old name after a renaming would read as a container removed
        # underneath (a platform fault) when the runner had only died of its own doing.
        self.settled_names()
        super()._inspect_latest()

    def kill(self) -> None:
        self.settled_names()  # containers are removed by name: the names must be settled
        if self.containers and self.cold_starts == 0 and self._all_ended():
            # Every container stopped of itself (its client returns only once Docker says
            # it exited): nothing of the submission runs, only its remains are left. The
            # pool removes them in the background, and the grading's report need not
            # wait for two more Docker calls.
            self._inspect_latest()
            self.pool.remove_later(list(self.containers), list(self.slots))
            for owned in self.procs:
                owned.close()
            self.procs.clear()
            self.containers.clear()
            self.slots.clear()
            return
        super().kill()
        if not self.containers:  # all removed: their slots are nobody's now
            for slot in self.slots:
                shutil.rmtree(slot, ignore_errors=True)
                slot.with_name(slot.name + ".cid").unlink(missing_ok=True)
            self.slots.clear()

    def describe(self) -> dict[str, object]:
        facts = super().describe()
        facts["image"] = self._image or facts.get("image")
        facts["pooled_starts"] = self.pooled_starts
        return facts


def reap_pools() -> list[str]:
    """Remove pooled containers whose worker process on this host is gone; return their names.

    A container of another host's worker is left alone (its own host's reaper
    judges it; ``reap_orphans`` removes it once it is older than any job).
    """
    listing = f'{{{{.Names}}}}\t{{{{.Label "{LABEL_POOL}"}}}}'
    done = docker_cli(
        ["ps", "-a", "--filter", f"label={LABEL_POOL}", "--format", listing], timeout=30
    )
    if done.returncode != 0:
        raise SandboxUnavailable(f"docker ps failed: {done.stderr.decode(errors='replace')}")
    dead = []
    for line in done.stdout.decode().splitlines():
        name, _, owner = line.partition("\t")
        if owner_alive(owner) is False:
            dead.append(name)
    if dead:
        docker_cli(["rm", "-f", *dead], timeout=120)
    return dead


@contextlib.contextmanager
def head_start(kind: str, spec: SandboxSpec) -> Iterator[WarmPool]:
    """One sandbox of ``kind`` for ``spec`` starting now, in the background, for the
    grading this process runs next (installed for ``kind`` until the block ends).

    The command line enters this before it imports numpy and the assignment's checks,
    so that the sandbox's start (bubblewrap or a container, its interpreter and its
    numpy) runs beside them instead of after them. The sandbox is a pooled one
    (``prime``, ``once``): everything said above of a pooled sandbox holds for it. If
    the grading asks for another kind, or none, it is killed when the block ends.
    """
    if kind == "local":
        from grader.sandbox.local_pool import LocalPool

        # Full weight: the grading about to run is waiting for it, not running beside it.
        pool: WarmPool = LocalPool(1, once=True, idle_weight=False)
    else:
        pool = ContainerPool(1, once=True)
    before = installed(kind)
    install(pool, kind)
    try:
        pool.prime(spec)
        if kind == "local":
            # The caller's imports begin once bubblewrap is out of this process. A
            # container's start waits on the Docker client and engine (docker info, then
            # docker run), processes of their own: the imports go on beside them.
            pool.wait_spawned(SPAWN_WAIT_S)
        yield pool
    finally:
        install(before, kind)
        pool.close()


# -- the pools of this process (a worker installs one; the engine's make_sandbox uses it) --

_installed: dict[str, tuple[int, WarmPool]] = {}


def install(pool: WarmPool | None, kind: str = "docker") -> None:
    """Make ``pool`` this process's for ``kind``: sandboxes of that kind made after this
    take from it (None: no pool for that kind)."""
    if pool is None:
        _installed.pop(kind, None)
    else:
        _installed[kind] = (os.getpid(), pool)


def installed(kind: str = "docker") -> WarmPool | None:
    """This process's pool for ``kind``; None in a child forked after ``install`` (its
    thread stayed behind)."""
    found = _installed.get(kind)
    if found is None or found[0] != os.getpid():
        return None
    return found[1]


__all__ = [
    "LABEL_POOL",
    "ContainerPool",
    "PooledDockerSandbox",
    "WarmPool",
    "head_start",
    "install",
    "installed",
    "reap_pools",
]
