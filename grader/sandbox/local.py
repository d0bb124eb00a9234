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

Without bubblewrap this is only rlimits, a process group and a scrubbed
environment. That is NOT a security boundary, and it says so loudly.
"""

from __future__ import annotations

import contextlib
import functools
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

from grader.config import data_dir
from grader.sandbox.base import SANDBOX_ROOT, Sandbox, SandboxSpec, SandboxUnavailable

# As root, each sandbox runs as a uid of its own: this base plus the pid of its
# bubblewrap process (unique among live processes). The process cap counts every
# process of a uid on the host, so under one shared uid (nobody) a fork bomb in
# one grading would stop a concurrent grading from starting at all.
SANDBOX_UID_BASE = 1 << 30
ENV_PACKAGES = {"numpy": ["numpy"], "torch": ["numpy", "torch==2.13.0"]}
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
    yourself" is enforced.
    """
    if environment not in ENV_PACKAGES:
        raise SandboxUnavailable(f"unknown environment '{environment}'")
    target = env_dir(environment)
    marker = target / ".dlgrade-ready"
    if marker.exists():
        return target
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
    (tmp / ".dlgrade-ready").write_text("ok\n")
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    return target


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [int(p) for p in fh.read().split()]
    except (OSError, ValueError):
        return []


def _stat(pid: int) -> list[str]:
    """Fields of /proc/PID/stat after the command name (state first); [] when gone."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rpartition(")")[2].split()
    except OSError:
        return []


def _start_time(pid: int) -> str:
    fields = _stat(pid)
    return fields[19] if len(fields) > 19 else ""


def _running(pid: int, started: str) -> bool:
    """Whether ``pid`` is still the process that started at ``started``, and not yet dead."""
    fields = _stat(pid)
    return len(fields) > 19 and fields[19] == started and fields[0] not in ("Z", "X")


class LocalSandbox(Sandbox):
    name = "local"

    def __init__(self, spec: SandboxSpec) -> None:
        super().__init__(spec)
        self.bwrap = bwrap_path()
        self.is_security_boundary = self.bwrap is not None
        self.name = "local-bwrap" if self.bwrap else "local-rlimits"
        self.env = ensure_env(spec.environment)
        self.procs: list[subprocess.Popen[bytes]] = []
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

    def _drop_privileges_and_limit(self) -> None:
        """Runs in the child between fork and exec."""
        lim = self.spec.limits
        mem = lim.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
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
            resource.setrlimit(resource.RLIMIT_NPROC, (lim.pids, lim.pids))

    def _env(self) -> dict[str, str]:
        threads = str(max(1, int(self.spec.limits.cpus)))
        return {
            "PATH": "/opt/env/bin:/usr/bin:/bin",
            "HOME": "/tmp",
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
        cmd += ["--ro-bind", "/usr", "/usr"]
        for top in ("bin", "lib", "lib64", "sbin"):
            host = Path("/") / top
            if host.is_symlink():
                cmd += ["--symlink", os.readlink(host), f"/{top}"]
            elif host.is_dir():
                cmd += ["--ro-bind", str(host), f"/{top}"]
        cmd += ["--proc", "/proc", "--dev", "/dev"]
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
            # Unprotected: paths are the host's, TMPDIR is a private folder we remove after.
            private_tmp = self.spec.root.parent / (self.spec.root.name + "-tmp")
            private_tmp.mkdir(mode=0o777, exist_ok=True)
            os.chmod(private_tmp, 0o777)
            root = str(self.spec.root)
            cmd = [str(self.env / "bin" / "python3")]
            cmd += [a.replace(SANDBOX_ROOT, root) for a in argv]
            env = {
                **self._env(),
                "PATH": f"{self.env}/bin:/usr/bin:/bin",
                "TMPDIR": str(private_tmp),
            }
            cwd = str(private_tmp)
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=self._drop_privileges_and_limit,
        )
        self.procs.append(proc)
        return proc

    def kill(self) -> None:
        # bwrap's child is PID 1 of the sandbox's PID namespace. It dies with bwrap,
        # but asynchronously; only once it has exited has the kernel killed and
        # reaped every other process in the namespace. So kill it too, and wait.
        inits: list[tuple[int, str]] = []
        for proc in self.procs:
            mine = [(pid, _start_time(pid)) for pid in _children(proc.pid)] if self.bwrap else []
            inits += mine
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            for pid, _ in mine:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
            for pipe in (proc.stdin, proc.stdout, proc.stderr):
                try:
                    if pipe is not None:
                        pipe.close()
                except OSError:
                    pass
        self.procs.clear()
        deadline = time.monotonic() + 10
        for pid, started in inits:
            while _running(pid, started) and time.monotonic() < deadline:
                time.sleep(0.002)

    def describe(self) -> dict[str, object]:
        return {
            **super().describe(),
            "security_boundary": self.is_security_boundary,
        }
