"""The local sandbox: bubblewrap when present, else rlimits and a warning.

bubblewrap gives the runner its own user, PID, network, IPC and mount
namespaces: it sees /usr read-only, the prepared /sandbox folder read-only, its
environment at /opt/env, and size-capped private /tmp and /dev/shm (the only
writable places); no network at all, no repository, no host environment.
Because the runner is PID 1's child in its own PID namespace, killing
bubblewrap takes every process the submission started with it, double-forked
daemons included.

Without bubblewrap this is only rlimits, a process group and a scrubbed
environment. That is NOT a security boundary, and it says so loudly.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import subprocess
import sys
import warnings
from pathlib import Path

from grader.config import data_dir
from grader.sandbox.base import SANDBOX_ROOT, Sandbox, SandboxSpec, SandboxUnavailable

NOBODY = 65534
ENV_PACKAGES = {"numpy": ["numpy"], "torch": ["numpy", "torch==2.13.0"]}
# Debian's interpreter lives under /usr, which the sandbox can see; a pyenv one under /root cannot.
SYSTEM_PYTHON = Path("/usr/bin/python3")


class UnsafeSandboxWarning(UserWarning):
    pass


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


class LocalSandbox(Sandbox):
    name = "local"

    def __init__(self, spec: SandboxSpec) -> None:
        super().__init__(spec)
        self.bwrap = bwrap_path()
        self.is_security_boundary = self.bwrap is not None
        self.name = "local-bwrap" if self.bwrap else "local-rlimits"
        self.env = ensure_env(spec.environment)
        self.procs: list[subprocess.Popen[bytes]] = []
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
            # As root the process cap means nothing; as nobody it is real.
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
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
        for proc in self.procs:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
            for pipe in (proc.stdin, proc.stdout, proc.stderr):
                try:
                    if pipe is not None:
                        pipe.close()
                except OSError:
                    pass
        self.procs.clear()

    def describe(self) -> dict[str, object]:
        return {
            **super().describe(),
            "security_boundary": self.is_security_boundary,
        }
