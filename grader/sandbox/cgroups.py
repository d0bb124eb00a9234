"""Per-submission cgroups: memory, process and CPU limits that hold for all of a
submission's processes together, and a kill that reaches every one of them.

rlimits hold per process: four processes of 200 MB each pass a 256 MB RLIMIT_AS.
A memory cgroup holds them together, and its pids limit counts them together;
a cpu controller's quota (v2 cpu.max, v1 cpu.cfs_quota_us) holds their CPU time
to the manifest's ``cpus``. Used by the local sandbox when this process can
manage cgroups (root, or a delegated cgroup v2 subtree); Docker does the same
for its containers.

The kill never aims at a bare pid: v2's cgroup.kill where the kernel has it;
else the group is frozen (v1 freezer, v2 cgroup.freeze), so that nothing in it
can fork or exit, and each member is signalled through a pidfd confirmed to be
in the group after it was opened.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import secrets
import signal
import time
import weakref
from dataclasses import dataclass
from pathlib import Path

from grader.sandbox.base import SandboxLimits

log = logging.getLogger(__name__)


def process_stat(pid: int) -> list[str]:
    """Fields of /proc/PID/stat after the command name (state first); [] when gone."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rpartition(")")[2].split()
    except OSError:
        return []


def process_start_time(pid: int) -> str:
    fields = process_stat(pid)
    return fields[19] if len(fields) > 19 else ""


def process_running(pid: int, started: str) -> bool:
    """Whether ``pid`` is still the process that started at ``started``, and not yet dead."""
    fields = process_stat(pid)
    return len(fields) > 19 and fields[19] == started and fields[0] not in ("Z", "X")


# -- per-submission cgroups ------------------------------------------------------------------
#
# rlimits hold per process: four processes of 200 MB each pass a 256 MB RLIMIT_AS.
# A memory cgroup holds all of a submission's processes together, and its pids
# limit counts them together too. Each runner start gets a fresh group in a
# folder named CGROUP_PARENT, under this process's own cgroup where the kernel
# allows it (cgroup v1: so whatever limits the service runs under still hold for
# its sandboxes; cgroup v2: see _v2_parent).

CGROUP_PARENT = "dlgrade"
CGROUP_REMOVE_SECONDS = 10.0
FREEZE_SECONDS = 1.0
REQUIRED = ("memory", "pids")
# Wanted where the kernel offers them: cpu for the quota, freezer (v1) for a kill
# that fork churn cannot outrun. Without them the sandbox still runs, and says so.
# cpuacct (v1) to measure the CPU time the time limits are counted in (v2's cpu.stat is
# in every group).
OPTIONAL = ("cpu", "cpuacct", "freezer")
CPU_PERIOD_US = 100_000
# All sandboxes together: half the kernel's default weight of one process (1024 for
# v1 cpu.shares, 100 for v2 cpu.weight), below the services beside them (_weigh_sandboxes).
SANDBOX_SHARES_V1 = 512
SANDBOX_WEIGHT_V2 = 50
# One sandbox among the others: the kernel's default weight, and the least there is
# (a pool's waiting sandbox while it imports its libraries: it runs on idle CPU only).
DEFAULT_SHARES_V1, IDLE_SHARES_V1 = 1024, 2
DEFAULT_WEIGHT_V2, IDLE_WEIGHT_V2 = 100, 1


@dataclass(frozen=True)
class CgroupLayout:
    """Where this process makes its sandboxes' groups.

    ``homes`` maps each controller in use to the CGROUP_PARENT folder of its
    hierarchy: memory and pids always, cpu and freezer where offered. Under
    cgroup v2 they are all one folder; under v1, one per hierarchy (or shared
    where controllers are mounted together).
    """

    version: int
    homes: dict[str, Path]

    @classmethod
    def unified(cls, parent: Path, *, cpu: bool = False) -> CgroupLayout:
        """A cgroup v2 layout: every controller in ``parent`` (v2 can always freeze)."""
        controllers = [*REQUIRED, "freezer", *(["cpu"] if cpu else [])]
        return cls(2, dict.fromkeys(controllers, parent))

    @property
    def parents(self) -> tuple[Path, ...]:
        """Each hierarchy's parent folder once, memory's first."""
        return tuple(dict.fromkeys(self.homes.values()))

    @property
    def mechanism(self) -> str:
        return f"cgroup v{self.version}"

    def has(self, controller: str) -> bool:
        return controller in self.homes

    @property
    def measures_cpu(self) -> bool:
        """Whether a group's CPU time can be read (v2 always; v1 with cpuacct)."""
        return self.version == 2 or self.has("cpuacct")


def _write(path: Path, text: str) -> None:
    with open(path, "w") as fh:
        fh.write(text)


def _write_if_present(path: Path, text: str) -> bool:
    """Write ``text`` when the kernel offers the file (swap accounting, cgroup.kill); else False."""
    try:
        _write(path, text)
    except FileNotFoundError:
        return False
    return True


def _read_key(path: Path, key: str) -> int:
    """The number after ``key`` in a flat-keyed cgroup file (memory.events); 0 if none."""
    try:
        for line in path.read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == key:
                return int(value)
    except (OSError, ValueError):
        pass
    return 0


def _read_int(path: Path) -> int:
    try:
        return int(path.read_text())
    except (OSError, ValueError):
        return 0


def _cgroup_mounts() -> dict[str, tuple[Path, str]]:
    """v1 controllers by name and '' (cgroup2) -> (mount point, cgroup shown at it)."""
    mounts: dict[str, tuple[Path, str]] = {}
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if len(fields) < 5 or len(tail) < 3:
            continue
        mount = (Path(fields[4].replace("\\040", " ")), fields[3])
        if tail[0] == "cgroup2":
            mounts.setdefault("", mount)
        elif tail[0] == "cgroup":
            for option in tail[2].split(","):
                if option in (*REQUIRED, *OPTIONAL):
                    mounts.setdefault(option, mount)
    return mounts


def _own_cgroups() -> dict[str, str]:
    """This process's cgroup path per v1 controller, and under '' its cgroup v2 path."""
    own: dict[str, str] = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            own[controller] = path
    return own


def _folder_of(mount: tuple[Path, str], cgroup: str) -> Path:
    """The folder of ``cgroup`` under ``mount``: the mount's top where it does not show it."""
    point, shown = mount
    relative = os.path.relpath(cgroup, shown)
    return point if relative.startswith("..") else point / relative


def _enable_v2_controllers(folder: Path, optional: bool) -> None:
    """Let the children of ``folder`` have memory and pids limits, and cpu if asked (cgroup v2)."""
    enabled = (folder / "cgroup.subtree_control").read_text().split()
    if not set(REQUIRED) <= set(enabled):
        # EBUSY where the folder holds processes of its own (v2's no-internal-process rule).
        _write(folder / "cgroup.subtree_control", "+memory +pids")
    if optional and "cpu" not in enabled:
        # Apart: a kernel that refuses cpu (real-time threads in the tree) keeps the rest.
        _write(folder / "cgroup.subtree_control", "+cpu")


def _v2_parent(mount: tuple[Path, str], own: str) -> tuple[Path, bool]:
    """The parent folder for sandbox groups, and whether they get the cpu controller."""
    top = mount[0]
    offered = set((top / "cgroup.controllers").read_text().split())
    if not set(REQUIRED) <= offered:
        raise OSError(f"cgroup v2 at {top} offers no memory and pids controllers")
    failures = []
    # v2 lets a cgroup hand memory and pids to its children only while it holds no
    # process itself (the root excepted), and this process is in its own cgroup. So
    # under our own cgroup only where that is the root; else at the top of the
    # hierarchy, beyond the limits of whatever service this runs in (each
    # sandbox's own limits hold all the same).
    for base in dict.fromkeys([_folder_of(mount, own), top]):
        try:
            _enable_v2_controllers(base, optional=False)
            parent = base / CGROUP_PARENT
            parent.mkdir(exist_ok=True)
            _enable_v2_controllers(parent, optional=False)
        except OSError as exc:
            failures.append(f"{base}: {exc.strerror or exc}")
            continue
        cpu = "cpu" in offered
        if cpu:
            try:
                _enable_v2_controllers(base, optional=True)
                _enable_v2_controllers(parent, optional=True)
            except OSError as exc:
                log.warning("cgroup v2 cpu controller refused at %s: %s", base, exc)
                cpu = False
        return parent, cpu
    raise OSError("; ".join(failures))


def _weigh_sandboxes(layout: CgroupLayout) -> None:
    """Give all the sandboxes of a host together half the CPU weight of one process.

    Under contention the kernel splits CPU between the parent group, as ONE
    entity, and each runnable process (or service group) beside it: the web
    portal, the database, the broker, the worker's trusted side each weigh a
    default process, so they stay responsive while every sandbox is busy. The
    weight matters only when the CPU is contended: on an idle host the
    sandboxes use all they are allowed (each one's quota still holds it to the
    manifest's ``cpus``). A grading slowed down this way loses no points: its
    time limits are CPU time (grader/session.py), and a worker runs no more
    gradings than its cores hold (worker/concurrency.py).
    """
    if not layout.has("cpu"):
        return
    home = layout.homes["cpu"]
    try:
        if layout.version == 1:
            _write(home / "cpu.shares", str(SANDBOX_SHARES_V1))
        else:
            _write(home / "cpu.weight", str(SANDBOX_WEIGHT_V2))
    except OSError as exc:
        log.warning("could not weigh the sandboxes' cpu group at %s: %s", home, exc)


def _probe(layout: CgroupLayout) -> None:
    """Make and remove one group with every limit written: raises OSError where one fails."""
    SubmissionCgroup.create(layout, SandboxLimits()).destroy()


@functools.cache
def cgroup_layout() -> tuple[CgroupLayout | None, str]:
    """The cgroups this process can make for its sandboxes, or None and the reason why not.

    Decided once per process, by making and removing a probe group: it takes
    write access (root, or a delegated v2 subtree), cgroup v1's memory and pids
    controllers or cgroup v2 with both enabled. The cpu (and v1 freezer)
    controllers are used where offered and working; ``layout.has("cpu")`` says.
    """
    try:
        mounts, own = _cgroup_mounts(), _own_cgroups()
        if all(c in mounts for c in REQUIRED):
            homes = {
                c: _folder_of(mounts[c], own.get(c, "/")) / CGROUP_PARENT
                for c in (*REQUIRED, *OPTIONAL)
                if c in mounts
            }
            for parent in dict.fromkeys(homes.values()):
                parent.mkdir(exist_ok=True)
            layout = CgroupLayout(1, homes)
        elif "" in mounts:
            parent, cpu = _v2_parent(mounts[""], own.get("", "/"))
            layout = CgroupLayout.unified(parent, cpu=cpu)
        else:
            return None, "no cgroup memory and pids controllers are mounted"
        try:
            _probe(layout)
        except OSError as exc:
            # Perhaps only an optional controller fails (no CFS bandwidth control): keep the rest.
            required = {c: home for c, home in layout.homes.items() if c in REQUIRED}
            if layout.version == 2:
                required["freezer"] = layout.homes["freezer"]
            if required == layout.homes:
                raise
            log.warning(
                "sandbox cgroups without %s: %s", sorted(set(layout.homes) - set(required)), exc
            )
            layout = CgroupLayout(layout.version, required)
            _probe(layout)
    except (OSError, ValueError) as exc:
        return None, f"cannot manage cgroups here ({exc})"
    _weigh_sandboxes(layout)
    return layout, ""


def cgroups_available() -> bool:
    """Whether the local sandbox can limit memory and processes per submission with cgroups."""
    return cgroup_layout()[0] is not None


class CpuMeter:
    """The CPU time a cgroup's processes used, and the time they spent waiting for a CPU.

    The time limits are counted in the first (as isolate and DOMjudge count
    them): a busy host slows a submission down without charging it. The second
    tells a starved program from a sleeping one when a wall-clock backstop
    fires: the cgroup's cpu.pressure (v2, time some task waited), else the
    run-queue delay of its threads (/proc/TID/schedstat, the same measure per
    thread, kept while they live).
    """

    def __init__(self, version: int, folder: Path) -> None:
        self.version = version
        self.folder = folder
        # The usage file, held open: a grading reads it twice per call (a hundred calls
        # for a small homework), and a pread of a held descriptor costs a fraction of
        # opening the file each time. Closed with the meter, or when it is collected.
        self._fd: int | None = None
        self._closer: weakref.finalize | None = None

    def _usage_fd(self) -> int:
        if self._fd is None:
            name = "cpuacct.usage" if self.version == 1 else "cpu.stat"
            self._fd = os.open(self.folder / name, os.O_RDONLY | os.O_CLOEXEC)
            self._closer = weakref.finalize(self, os.close, self._fd)
        return self._fd

    def close(self) -> None:
        """Let go of the usage file (a later read opens it again). Idempotent."""
        if self._closer is not None:
            self._closer()
        self._fd = self._closer = None

    def cpu_seconds(self) -> float | None:
        """CPU time used so far; None while the group does not exist (not started, or gone)."""
        try:
            # A cgroup file is generated afresh at each read from its start.
            text = os.pread(self._usage_fd(), 4096, 0).decode()
            if self.version == 1:
                return int(text) / 1e9
            for line in text.splitlines():
                name, _, value = line.partition(" ")
                if name == "usage_usec":
                    return int(value) / 1e6
        except (OSError, ValueError):
            # Gone (a removed group's file answers ENODEV): the next read looks afresh.
            self.close()
            return None
        return None

    def waiting_seconds(self) -> float | None:
        """Time spent runnable but without a CPU so far; None where it cannot be read."""
        if self.version == 2:
            try:
                some = (self.folder / "cpu.pressure").read_text().splitlines()[0]
                return int(some.rpartition("total=")[2]) / 1e6
            except (OSError, ValueError, IndexError):
                pass
        threads = "tasks" if self.version == 1 else "cgroup.threads"
        try:
            tids = (self.folder / threads).read_text().split()
        except OSError:
            return None
        waited = 0
        for tid in tids:
            # Read only (never signalled): a number reused meanwhile costs accuracy, no harm.
            with contextlib.suppress(OSError, ValueError, IndexError):
                waited += int(Path(f"/proc/{tid}/schedstat").read_text().split()[1])
        return waited / 1e9


@functools.cache
def _cpu_accounting_top() -> tuple[int, Path] | None:
    """The hierarchy that counts CPU time: v1's cpuacct mount, else the v2 mount."""
    try:
        mounts = _cgroup_mounts()
    except OSError:
        return None
    if "cpuacct" in mounts:
        return 1, mounts["cpuacct"][0]
    if "" in mounts:
        return 2, mounts[""][0]
    return None


# Where Docker's cgroupfs and systemd drivers put a container's cgroup, under the
# hierarchy's top: the parent folder, and the container's own folder in it.
_CONTAINER_PLACES = (("docker", "{}"), ("system.slice", "docker-{}.scope"))


def container_cgroups_visible() -> bool:
    """Whether Docker containers' cgroups (and so their CPU time) can be seen from here."""
    found = _cpu_accounting_top()
    return found is not None and any(
        (found[1] / parent).is_dir() for parent, _ in _CONTAINER_PLACES
    )


def container_cpu_meter(container_id: str) -> CpuMeter | None:
    """The CPU meter of a running Docker container's cgroup; None where there is none (yet)."""
    found = _cpu_accounting_top()
    if found is None or not container_id.isalnum():
        return None
    version, top = found
    names = [Path(parent) / own.format(container_id) for parent, own in _CONTAINER_PLACES]
    for name in names:
        if (top / name).is_dir():
            return CpuMeter(version, top / name)
    return None


class SubmissionCgroup:
    """One runner's cgroup: memory, process and CPU limits for all of its processes together.

    Its name says who made it and when (``OWNERPID-OWNERSTART-UNIXTIME-RANDOM``),
    so that ``reap_cgroups`` can tell an orphan from a group in use.
    """

    def __init__(self, layout: CgroupLayout, name: str) -> None:
        self.layout = layout
        self.name = name
        self.dirs = tuple(parent / name for parent in layout.parents)
        self.removed = False
        # Read just before removal, for the report and for telling an OOM kill apart.
        self._oom_kills = 0
        self._peak_bytes = 0
        self._meter: CpuMeter | None = None

    @classmethod
    def create(cls, layout: CgroupLayout, limits: SandboxLimits) -> SubmissionCgroup:
        me = os.getpid()
        name = f"{me}-{process_start_time(me)}-{int(time.time())}-{secrets.token_hex(4)}"
        group = cls(layout, name)
        try:
            for folder in group.dirs:
                folder.mkdir()
            group._set_limits(limits)
        except OSError:
            group.destroy(seconds=1.0)
            raise
        return group

    def folder(self, controller: str) -> Path:
        """This group's folder in ``controller``'s hierarchy (KeyError when not in use)."""
        return self.layout.homes[controller] / self.name

    def meter(self) -> CpuMeter | None:
        """The CPU meter of this group; None where the kernel does not count its CPU time."""
        if self._meter is None:
            if self.layout.version == 2:
                self._meter = CpuMeter(2, self._memory)
            elif self.layout.has("cpuacct"):
                self._meter = CpuMeter(1, self.folder("cpuacct"))
        return self._meter

    @property
    def _memory(self) -> Path:
        return self.folder("memory")

    def _set_limits(self, limits: SandboxLimits) -> None:
        memory = str(limits.memory_mb * 1024 * 1024)
        if self.layout.version == 2:
            _write(self._memory / "memory.max", memory)
            _write_if_present(self._memory / "memory.swap.max", "0")
        else:
            _write(self._memory / "memory.limit_in_bytes", memory)
            # Memory plus swap capped at the same value: swap cannot extend the limit.
            _write_if_present(self._memory / "memory.memsw.limit_in_bytes", memory)
        _write(self.folder("pids") / "pids.max", str(limits.pids))
        if self.layout.has("cpu"):
            # CPU time per period for all processes together: `cpus` cores' worth, however
            # many processes the submission spreads its work over.
            quota = max(1000, round(limits.cpus * CPU_PERIOD_US))
            cpu = self.folder("cpu")
            if self.layout.version == 2:
                _write(cpu / "cpu.max", f"{quota} {CPU_PERIOD_US}")
            else:
                _write(cpu / "cpu.cfs_period_us", str(CPU_PERIOD_US))
                _write(cpu / "cpu.cfs_quota_us", str(quota))

    def set_idle(self, idle: bool) -> bool:
        """Weigh this group as nothing beside the other sandboxes (``idle``), or as one of
        them again; True where the weight was written.

        For a pool's waiting sandbox: while it starts and imports its libraries it
        takes only CPU that no grading wants, and it weighs as any other once taken.
        """
        if not self.layout.has("cpu"):
            return False
        cpu = self.folder("cpu")
        try:
            if self.layout.version == 1:
                _write(cpu / "cpu.shares", str(IDLE_SHARES_V1 if idle else DEFAULT_SHARES_V1))
            else:
                _write(cpu / "cpu.weight", str(IDLE_WEIGHT_V2 if idle else DEFAULT_WEIGHT_V2))
        except OSError:
            return False
        return True

    def join_fds(self) -> list[int]:
        """Open cgroup.procs of each folder: a child that writes b"0" to each is in the group.

        Opened here, by the trusted side, so that the child between fork and exec
        only has to write (no allocation, no import).
        """
        fds: list[int] = []
        try:
            for folder in self.dirs:
                fds.append(os.open(folder / "cgroup.procs", os.O_WRONLY | os.O_CLOEXEC))
        except OSError:
            for fd in fds:
                os.close(fd)
            raise
        return fds

    def members(self) -> list[int]:
        pids: set[int] = set()
        for folder in self.dirs:
            with contextlib.suppress(OSError, ValueError):
                pids.update(int(p) for p in (folder / "cgroup.procs").read_text().split())
        return sorted(pids)

    def _kill_members(self) -> None:
        if self.layout.version == 2 and _write_if_present(self._memory / "cgroup.kill", "1"):
            return  # the kernel kills every member, by the group: no pid involved
        frozen = self._freeze(True)
        try:
            for pid in self.members():
                # Signal through a pidfd, and only after seeing the pid still in the group
                # with the pidfd open: a pid that died and was reused meanwhile is not ours.
                try:
                    pidfd = os.pidfd_open(pid)
                except OSError:
                    continue
                try:
                    if pid in self.members():
                        signal.pidfd_send_signal(pidfd, signal.SIGKILL)
                except OSError:
                    pass
                finally:
                    os.close(pidfd)
        finally:
            if frozen:
                self._freeze(False)  # thawed, the killed ones die

    def _freeze(self, frozen: bool) -> bool:
        """Freeze (or thaw) the group: frozen, no member can fork or exit while it is killed.

        True when frozen within FREEZE_SECONDS. Without a freezer the kill loop
        still ends: pids.max bounds what a fork bomb can make between two passes.
        """
        if not self.layout.has("freezer"):
            return False
        folder = self.folder("freezer")
        try:
            if self.layout.version == 2:
                _write(folder / "cgroup.freeze", "1" if frozen else "0")
                done, path = "frozen 1" if frozen else "frozen 0", folder / "cgroup.events"
            else:
                _write(folder / "freezer.state", "FROZEN" if frozen else "THAWED")
                done, path = "FROZEN" if frozen else "THAWED", folder / "freezer.state"
            deadline = time.monotonic() + FREEZE_SECONDS
            while time.monotonic() < deadline:
                if done in path.read_text():
                    return True
                time.sleep(0.001)
        except OSError:
            pass
        return False

    def oom_kills(self) -> int:
        """Processes the kernel killed for exceeding this group's memory limit."""
        if self.removed:
            return self._oom_kills
        events = "memory.events" if self.layout.version == 2 else "memory.oom_control"
        return _read_key(self._memory / events, "oom_kill")

    def peak_bytes(self) -> int:
        """The most memory the group's processes held together (0 where the kernel does not say)."""
        if self.removed:
            return self._peak_bytes
        peak = "memory.peak" if self.layout.version == 2 else "memory.max_usage_in_bytes"
        return _read_int(self._memory / peak)

    def destroy(self, seconds: float = CGROUP_REMOVE_SECONDS) -> bool:
        """Kill every process in the group, then remove it; True once it is gone. Idempotent.

        Waits until every process that was in it has exited, at most
        ``seconds``; what is left then is for ``reap_cgroups``.
        """
        if self.removed:
            return True
        deadline = time.monotonic() + seconds
        seen: dict[int, str] = {}
        while time.monotonic() < deadline:
            members = self.members()
            if not members:
                break
            for pid in members:
                seen.setdefault(pid, process_start_time(pid))
            self._kill_members()
            time.sleep(0.002)
        # A dying process leaves its cgroup before it has finished exiting: out of
        # the group is not yet gone.
        for pid, started in seen.items():
            while started and process_running(pid, started) and time.monotonic() < deadline:
                time.sleep(0.002)
        self._oom_kills, self._peak_bytes = self.oom_kills(), self.peak_bytes()
        if self._meter is not None:
            self._meter.close()
        for folder in reversed(self.dirs):
            while True:
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    if time.monotonic() >= deadline:
                        log.warning("cgroup %s is still busy; left for reap_cgroups", folder)
                        return False
                    self._kill_members()
                    time.sleep(0.005)
        self.removed = True
        return True


def _owner_of(name: str) -> tuple[int, str, float] | None:
    """(owner pid, owner start time, made at) from a group's name; None when not one of ours."""
    parts = name.split("-")
    if len(parts) != 4 or not (parts[0].isdigit() and parts[2].isdigit()):
        return None
    return int(parts[0]), parts[1], float(parts[2])


def reap_cgroups(max_age_s: float, layout: CgroupLayout | None = None) -> list[str]:
    """Kill and remove sandbox cgroups nobody will clean up; return their names.

    For the worker's periodic reaper, like ``docker.reap_orphans``: a group goes
    when the process that made it has exited (a worker that crashed mid-grading),
    or when it was made more than ``max_age_s`` ago (older than any job can be).
    Only groups under this process's own cgroup are seen (``layout``, by default
    this process's), so run it in the workers' service.
    """
    layout = layout or cgroup_layout()[0]
    if layout is None:
        return []
    names: set[str] = set()
    for parent in layout.parents:
        with contextlib.suppress(OSError):
            names.update(entry.name for entry in os.scandir(parent) if entry.is_dir())
    reaped = []
    now = time.time()
    for name in sorted(names):
        owner = _owner_of(name)
        if owner is None:
            continue
        pid, started, made = owner
        if process_running(pid, started) and now - made <= max_age_s:
            continue
        if SubmissionCgroup(layout, name).destroy():
            reaped.append(name)
    return reaped
