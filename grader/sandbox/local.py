"""The local sandbox: bubblewrap when present, else rlimits and a warning.

bubblewrap gives the runner its own user, PID, network, IPC and mount
namespaces: it sees /usr read-only, the prepared /sandbox folder read-only, its
environment at /opt/env, and size-capped private /tmp and /dev/shm (the only
writable places); no network at all, no repository, no host environment, and
no user namespaces of its own (bubblewrap 0.8 or later; older ones are flagged
as no boundary).
Because the runner is PID 1's child in its own PID namespace, killing
bubblewrap takes every process the submission started with it, double-forked
daemons included.

Memory and processes are limited per submission (all its processes together)
by a cgroup made for each runner start, when this process can manage cgroups
(root, or a delegated cgroup v2 subtree): v1's memory and pids controllers or
v2's. Elsewhere they fall back to rlimits, which hold per process (RLIMIT_AS)
and per uid (RLIMIT_NPROC); ``describe()`` says which is in force.

Without bubblewrap this is only rlimits (and cgroups where available), a
process group and a scrubbed environment. That is NOT a security boundary, and
it says so loudly.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import logging
import os
import resource
import shutil
import signal
import subprocess
import sys
import warnings
from pathlib import Path

from grader.config import data_dir
from grader.sandbox.base import (
    SANDBOX_ROOT,
    Sandbox,
    SandboxSpec,
    SandboxUnavailable,
)
from grader.sandbox.cgroups import SubmissionCgroup, cgroup_layout
from grader.sandbox.environments import ENVIRONMENTS
from grader.sandbox.hostview import host_view
from grader.sandbox.images import requirements
from grader.sandbox.nvidia import find_driver
from grader.sandbox.owned import OwnedPid, OwnedProcess, wait_exited

log = logging.getLogger(__name__)

# As root, each sandbox runs as a uid of its own: this base plus the pid of its
# bubblewrap process (unique among live processes). The rlimit process cap (used
# without a pids cgroup) counts every process of a uid on the host, so under one
# shared uid (nobody) a fork bomb in one grading would stop a concurrent grading
# from starting at all.
SANDBOX_UID_BASE = 1 << 30
# One list for both sandboxes (grader/sandbox/environments.py), numpy pinned as in the images.
ENV_PACKAGES = {env: requirements(env) for env in ENVIRONMENTS}
# Debian's interpreter lives under /usr, which the sandbox can see; a pyenv one under /root cannot.
SYSTEM_PYTHON = Path("/usr/bin/python3")


class UnsafeSandboxWarning(UserWarning):
    pass


@functools.cache
def bwrap_can_disable_userns(bwrap: str) -> bool:
    """Whether this bubblewrap (0.8 or later) can forbid user namespaces inside the sandbox."""
    try:
        done = subprocess.run([bwrap, "--help"], capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    return b"--disable-userns" in done.stdout + done.stderr


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


def env_dir(environment: str) -> Path:
    return data_dir() / "envs" / environment


def ensure_env(environment: str) -> Path:
    """A virtual environment holding exactly what the assignment's environment declares.

    Built once from the system interpreter (so it works inside the sandbox's view
    of /usr). A 'numpy' environment has no torch: that is how "implement it
    yourself" is enforced. The ready-marker records the requirements it was built
    from: when the list changes, the environment is built again.
    """
    if environment not in ENV_PACKAGES:
        raise SandboxUnavailable(f"unknown environment '{environment}'")
    target = env_dir(environment)
    marker = target / ".dlgrade-ready"
    wanted = "\n".join(ENV_PACKAGES[environment]) + "\n"
    if marker.exists() and marker.read_text() == wanted:
        return target
    # Several workers (or test sessions) may start on a fresh host at once: one builds,
    # the others wait and then find it ready, rather than deleting each other's half-built tree.
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f".{environment}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists() and marker.read_text() == wanted:
            return target
        return _build_env(environment, target, wanted)


def _build_env(environment: str, target: Path, wanted: str) -> Path:
    base = SYSTEM_PYTHON if SYSTEM_PYTHON.exists() else Path(sys.executable)
    tmp = target.with_name(target.name + ".building")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        subprocess.run(
            [str(base), "-m", "venv", "--without-pip", str(tmp)], check=True, capture_output=True
        )
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "--python",
                str(tmp / "bin" / "python3"),
                "install",
                "--quiet",
                "--disable-pip-version-check",
                # The images' wheel cache, when there is one: no network needed.
                "--find-links",
                str(data_dir() / "wheels" / environment),
                *ENV_PACKAGES[environment],
            ],
            check=True,
            capture_output=True,
        )
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        detail = (exc.stderr or b"").decode(errors="replace")[-2000:]
        raise SandboxUnavailable(
            f"could not build the '{environment}' environment: {detail}"
        ) from None
    (tmp / ".dlgrade-ready").write_text(wanted)
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    return target


# Address space is not memory: torch maps ~600 MB at import with ~250 MB resident,
# glibc reserves 64 MiB arenas per thread. With a memory cgroup in force, RLIMIT_AS
# is set this far above the limit only so that an allocation that could never fit
# fails at once with a MemoryError and a traceback naming the line, rather than an
# OOM kill that names nothing.
ADDRESS_SPACE_FACTOR = 2
ADDRESS_SPACE_HEADROOM = 1 << 30


class LocalSandbox(Sandbox):
    """bubblewrap (else rlimits) around the runner; cgroup limits per submission where possible.

    ``use_cgroups=False`` forces the rlimit fallback (for tests and comparisons).
    """

    name = "local"

    def __init__(self, spec: SandboxSpec, *, use_cgroups: bool = True) -> None:
        super().__init__(spec)
        self.bwrap = bwrap_path()
        self.is_security_boundary = self.bwrap is not None
        self.name = "local-bwrap" if self.bwrap else "local-rlimits"
        self.env = ensure_env(spec.environment)
        # A GPU grading gets the host's driver (grader/sandbox/nvidia.py), or is refused here.
        self.driver = find_driver() if spec.gpu else None
        # Each runner start's bubblewrap (or bare runner), held by a pidfd taken at spawn.
        self.procs: list[OwnedProcess] = []
        self.starts = 0  # runner starts so far (kill() empties procs; this never goes back)
        layout, why = cgroup_layout() if use_cgroups else (None, "cgroups not asked for")
        self.cgroup_layout = layout
        self.cgroup_unavailable = why
        self.measures_cpu = layout is not None and layout.measures_cpu
        self.why_wall_clock = (
            why or "no cgroup CPU accounting (cpuacct) here" if not self.measures_cpu else ""
        )
        self.groups: list[SubmissionCgroup] = []  # one per runner start not yet killed
        self.last_group: SubmissionCgroup | None = None
        self.oom_kills_total = 0
        self.peak_bytes = 0
        # A user namespace of its own would make the submission root there, free to
        # mount a tmpfs with no size cap: every limit on disk and memory gone.
        self.userns_disabled = bool(self.bwrap) and bwrap_can_disable_userns(self.bwrap)
        if self.bwrap and not self.userns_disabled:
            self.is_security_boundary = False
            warnings.warn(
                "this bubblewrap is older than 0.8 and cannot stop submissions from creating "
                "user namespaces (and mounting unlimited tmpfs): NOT a security boundary. "
                "Upgrade bubblewrap or use --sandbox docker.",
                UnsafeSandboxWarning,
                stacklevel=2,
            )
        if not self.bwrap:
            warnings.warn(
                "bubblewrap is not installed: the local sandbox is only rlimits and a process "
                "group, NOT a security boundary. Install bubblewrap or use --sandbox docker.",
                UnsafeSandboxWarning,
                stacklevel=2,
            )

    def _address_space_bytes(self) -> int:
        if self.driver is not None:
            # CUDA reserves tens of GiB of address space when it starts, whatever the
            # program allocates: any RLIMIT_AS near the memory limit stops it there.
            # Memory is then held by the cgroup alone (none without one: describe() says).
            return resource.RLIM_INFINITY
        memory = self.spec.limits.memory_mb * 1024 * 1024
        if self.cgroup_layout is None:
            return memory  # the only memory limit there is, per process
        return ADDRESS_SPACE_FACTOR * memory + ADDRESS_SPACE_HEADROOM

    def _drop_privileges_and_limit(self, join_fds: list[int]) -> None:
        """Runs in the child between fork and exec."""
        # Into the submission's cgroup first: before bubblewrap, before anything of the
        # student's can run, every process of this sandbox is born inside it.
        for fd in join_fds:
            os.write(fd, b"0")
        lim = self.spec.limits
        address_space = self._address_space_bytes()
        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
        resource.setrlimit(resource.RLIMIT_CPU, (lim.cpu_seconds, lim.cpu_seconds))
        disk = lim.tmpfs_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_FSIZE, (disk, disk))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
        if os.getuid() == 0:
            # As root the process cap means nothing; as an unprivileged uid it is real.
            uid = SANDBOX_UID_BASE + os.getpid()
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            if self.cgroup_layout is None:
                # Checked before the cgroup's pids.max at fork, so set only without one:
                # the limit in force is then the one describe() names.
                resource.setrlimit(resource.RLIMIT_NPROC, (lim.pids, lim.pids))

    def _env(self) -> dict[str, str]:
        threads = str(max(1, int(self.spec.limits.cpus)))
        gpu = {}
        if self.driver is not None:
            gpu["LD_LIBRARY_PATH"] = ":".join(self.driver.library_folders)
        return {
            **gpu,
            "PATH": "/opt/env/bin:/usr/bin:/bin",
            "HOME": "/tmp",
            # The sandbox's uid has no passwd entry: getpass.getuser() (CUDA builds of
            # torch call it) reads these first rather than failing on getpwuid.
            "USER": "sandbox",
            "LOGNAME": "sandbox",
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONHASHSEED": "0",
            "OMP_NUM_THREADS": threads,
            "OPENBLAS_NUM_THREADS": threads,
            "MKL_NUM_THREADS": threads,
        }

    def _bwrap_argv(self, argv: list[str]) -> list[str]:
        tmp_bytes = self.spec.limits.tmpfs_mb * 1024 * 1024
        cmd = [self.bwrap, "--unshare-all", "--die-with-parent", "--new-session"]
        if self.userns_disabled:
            cmd += ["--unshare-user", "--disable-userns"]
        # Of the host, only an allow-list (hostview.py): never all of /usr, whose
        # share/ holds datasets with their test labels.
        view = host_view(self.env)
        for path in view.binds:
            cmd += ["--ro-bind", path, path]
        for target, link in view.links:
            cmd += ["--symlink", target, link]
        for top in ("bin", "lib", "lib64", "sbin"):
            host = Path("/") / top
            if host.is_symlink():  # merged /usr: /bin -> usr/bin and the like
                cmd += ["--symlink", os.readlink(host), f"/{top}"]
        cmd += ["--proc", "/proc", "--dev", "/dev"]
        if self.driver is not None:
            for node in self.driver.devices:
                cmd += ["--dev-bind", node, node]
            for folder in self.driver.library_folders:
                if folder not in view.binds:
                    cmd += ["--ro-bind", folder, folder]
        cmd += ["--size", str(tmp_bytes), "--tmpfs", "/tmp"]
        cmd += ["--size", str(tmp_bytes), "--tmpfs", "/dev/shm"]
        cmd += ["--ro-bind", str(self.spec.root), SANDBOX_ROOT]
        cmd += ["--ro-bind", str(self.env), "/opt/env"]
        # bwrap builds / and /dev on tmpfs without a size cap, writable by the sandbox
        # user: left so, they hold as many files as host memory allows, whatever the
        # /tmp cap. Only /tmp and /dev/shm (both capped) stay writable.
        cmd += ["--remount-ro", "/dev", "--remount-ro", "/"]
        cmd += ["--chdir", "/tmp", "--clearenv"]
        for key, value in self._env().items():
            cmd += ["--setenv", key, value]
        return [*cmd, *argv]

    def start(self, argv: list[str]) -> subprocess.Popen[bytes]:
        if self.bwrap:
            cmd = self._bwrap_argv(argv)
            env = self._env()
            cwd = "/"
        else:
            # Unprotected: paths are the host's, TMPDIR a private folder (in the engine's
            # work folder, removed with it). A fresh one per start, as bubblewrap's /tmp
            # is: each start runs as another uid, which could not replace the files an
            # earlier start left (a training check's second run loads the file again).
            private_tmp = self.spec.root.parent / f"{self.spec.root.name}-tmp{self.starts}"
            private_tmp.mkdir(mode=0o777, exist_ok=True)
            os.chmod(private_tmp, 0o777)
            root = str(self.spec.root)
            # The environment's interpreter for "python3" (bubblewrap finds it on PATH).
            program = str(self.env / "bin" / "python3") if argv[0] == "python3" else argv[0]
            cmd = [program, *(a.replace(SANDBOX_ROOT, root) for a in argv[1:])]
            env = {
                **self._env(),
                "PATH": f"{self.env}/bin:/usr/bin:/bin",
                "TMPDIR": str(private_tmp),
            }
            cwd = str(private_tmp)
        group, join_fds = self._new_group()
        try:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                cwd=cwd,
                start_new_session=True,
                preexec_fn=functools.partial(self._drop_privileges_and_limit, join_fds),
            )
        except BaseException as exc:
            if group is not None:
                group.destroy()
            if isinstance(exc, subprocess.SubprocessError):  # raised in the child before exec
                raise SandboxUnavailable(f"could not start the sandbox: {exc}") from None
            raise
        finally:
            for fd in join_fds:
                os.close(fd)
        try:
            owned = OwnedProcess(proc)
        except OSError as exc:
            # No pidfd (a kernel before 5.3): this process could never be signalled
            # safely once reaped. Refuse rather than fall back to a bare pid.
            proc.kill()
            proc.wait()
            if group is not None:
                group.destroy()
            raise SandboxUnavailable(
                f"cannot hold the sandbox's process by a pidfd: {exc}"
            ) from None
        self.procs.append(owned)
        self.starts += 1
        if group is not None:
            self.groups.append(group)
            self.last_group = group
        return proc

    def _new_group(self) -> tuple[SubmissionCgroup | None, list[int]]:
        """A fresh cgroup for the next runner and the descriptors its child joins through."""
        if self.cgroup_layout is None:
            return None, []
        group = None
        try:
            group = SubmissionCgroup.create(self.cgroup_layout, self.spec.limits)
            return group, group.join_fds()
        except OSError as exc:
            if group is not None:
                group.destroy()
            raise SandboxUnavailable(f"could not make the sandbox's cgroup: {exc}") from None

    def kill(self) -> None:
        # The cgroup holds every process the submission started, daemons and
        # escapees from the process group included: kill them all, wait until they
        # have exited, remove the group.
        for group in self.groups:
            group.destroy()
            self.oom_kills_total += group.oom_kills()
            self.peak_bytes = max(self.peak_bytes, group.peak_bytes())
        self.groups.clear()
        # Every signal below goes through a pidfd taken when the process was known to
        # be ours. The session may have reaped a runner long ago (Popen.poll() when it
        # exited between two calls): its pidfd then just answers ESRCH, where a bare
        # kill(pid) would hit whoever holds that number now.
        #
        # bwrap's child is PID 1 of the sandbox's PID namespace. It dies with bwrap,
        # but asynchronously; only once it has exited has the kernel killed and
        # reaped every other process in the namespace. So kill it too, and wait.
        inits: list[OwnedPid] = []
        for owned in self.procs:
            proc = owned.proc
            mine = owned.children() if self.bwrap else []
            inits += mine
            if not self.bwrap:
                # Unprotected: the runner leads a process group holding its children.
                owned.signal_group(signal.SIGKILL)
            owned.send(signal.SIGKILL)
            for init in mine:
                init.send(signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
            owned.close()
            for pipe in (proc.stdin, proc.stdout, proc.stderr):
                try:
                    if pipe is not None:
                        pipe.close()
                except OSError:
                    pass
        self.procs.clear()
        for left in wait_exited(inits, 10.0):
            log.warning("sandbox init %s has not exited 10 s after SIGKILL", left.pid)
        for init in inits:
            init.close()

    def cpu_seconds(self) -> float | None:
        meter = self.last_group.meter() if self.last_group is not None else None
        return meter.cpu_seconds() if meter is not None else None

    def waiting_seconds(self) -> float | None:
        meter = self.last_group.meter() if self.last_group is not None else None
        return meter.waiting_seconds() if meter is not None else None

    def oom_kills(self) -> int:
        """Processes of the latest runner that the kernel killed for the memory limit.

        0 without a memory cgroup (an rlimit shows as a MemoryError instead).
        Still answers after ``kill()``, so that a runner found dead can be
        told apart: killed for memory, or for something else.
        """
        return self.last_group.oom_kills() if self.last_group is not None else 0

    def describe(self) -> dict[str, object]:
        facts: dict[str, object] = {
            **super().describe(),
            "security_boundary": self.is_security_boundary,
        }
        layout = self.cgroup_layout
        # Said plainly when not in force: a report's CPU times mean little without it.
        facts["cpu_limit"] = (
            f"{self.spec.limits.cpus:g} cpu ({layout.mechanism} quota)"
            if layout is not None and layout.has("cpu")
            else "not enforced"
        )
        if layout is not None:
            facts["memory_limit"] = facts["process_limit"] = layout.mechanism
            facts["oom_kills"] = self.oom_kills_total
            facts["cgroup_peak_memory_mb"] = round(self.peak_bytes / 2**20, 1) or None
        else:
            facts["memory_limit"] = "per-process rlimit"
            # Unprivileged, RLIMIT_NPROC would count the whole user's processes: not set.
            facts["process_limit"] = "per-uid rlimit" if os.getuid() == 0 else "none"
            facts["cgroup_unavailable"] = self.cgroup_unavailable
        if self.driver is not None:
            facts["gpu_devices"] = list(self.driver.devices)
            if layout is None:
                facts["memory_limit"] = "none (CUDA needs an unlimited address space)"
        return facts
