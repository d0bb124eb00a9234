"""The production sandbox: one hardened Docker container per runner start.

Every container runs the environment's image (see ``images.py``) with:

- no network at all (``--network none``: only a loopback interface),
- a read-only root, the prepared folder read-only at /sandbox, a size-capped
  tmpfs at /tmp (Docker mounts it nosuid, nodev, noexec) and nothing else
  writable,
- memory (swap included), CPU, process-count, file-size, open-file and CPU-time
  limits enforced by the kernel from outside,
- an unprivileged user (10001), every capability dropped, no-new-privileges, the
  engine's default seccomp profile,
- an init as PID 1 of its own PID namespace: removing the container kills every
  process the submission started, double-forked daemons included,
- an environment of a few fixed variables: nothing of the host's.

The runner's requests and replies go over a Unix socket in /sandbox
(``channel.py``: Docker relays every byte of its attached streams, a round trip
ten times a socket's). What the submission prints goes through the attached
``docker run`` client only (``--log-driver none``): a chatty submission cannot
fill the host's disk with logs. Each container carries labels
(``dlgrade.sandbox=1``, ``dlgrade.label``, ``dlgrade.started``) so
``reap_orphans`` can remove any that a crashed worker left behind.

Exit statuses of the process ``start`` returns: the runner's own, 137 when the
container was killed (out of memory, from outside, or by ``kill``), and 125 to
127 when Docker itself failed to start it (a platform fault, see
``is_platform_fault``). Which kill it was is asked of Docker before ``kill``
removes the container (no ``--rm``): ``oom_kills`` is its State.OOMKilled,
``vanished`` a container gone that this sandbox never removed.
"""

from __future__ import annotations

import json
import logging
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from grader.sandbox.base import SANDBOX_ROOT, Sandbox, SandboxSpec, SandboxUnavailable
from grader.sandbox.cgroups import CpuMeter, container_cgroups_visible, container_cpu_meter
from grader.sandbox.channel import Listener
from grader.sandbox.images import (
    BUILD_COMMAND,
    SANDBOX_UID,
    SANDBOX_USER,
    cli_env,
    docker_cli,
    image_for,
)
from grader.sandbox.owned import OwnedProcess

log = logging.getLogger(__name__)

LABEL_SANDBOX = "dlgrade.sandbox"
LABEL_LABEL = "dlgrade.label"
LABEL_STARTED = "dlgrade.started"
# One per DockerSandbox object: finds its containers even when a kill raced their creation.
LABEL_OWNER = "dlgrade.owner"

NOFILE = 1024
ENGINE_INFO_TTL_S = 30.0
_engine_cache: tuple[float, dict | None] | None = None


def engine_info(*, refresh: bool = False) -> dict | None:
    """``docker info`` as a dict, or None when no engine answers within 5 s (cached 30 s)."""
    global _engine_cache
    now = time.monotonic()
    if not refresh and _engine_cache is not None and now - _engine_cache[0] < ENGINE_INFO_TTL_S:
        return _engine_cache[1]
    info: dict | None = None
    try:
        done = docker_cli(["info", "--format", "{{json .}}"], timeout=5)
        if done.returncode == 0:
            parsed = json.loads(done.stdout or b"{}")
            # An unreachable server still yields the client's half, with ServerErrors.
            if parsed.get("ServerVersion") and not parsed.get("ServerErrors"):
                info = parsed
    except (SandboxUnavailable, ValueError):
        info = None
    _engine_cache = (now, info)
    return info


def docker_available() -> bool:
    """Whether a Docker engine answers here (a quick ``docker info``, cached for 30 s)."""
    return engine_info() is not None


def _require_engine() -> dict:
    info = engine_info()
    if info is None:
        raise SandboxUnavailable(
            "the Docker engine does not answer; start it and build the images with: "
            + BUILD_COMMAND
        )
    missing = [name for name in ("MemoryLimit", "PidsLimit", "CpuCfsQuota") if not info.get(name)]
    if missing:
        # A sandbox without these limits is no boundary; refuse rather than degrade.
        raise SandboxUnavailable(f"the Docker engine cannot enforce: {', '.join(missing)}")
    return info


def is_platform_fault(returncode: int | None) -> bool:
    """True when ``docker run`` itself failed (125: engine error, 126/127: cannot exec)."""
    return returncode in (125, 126, 127)


class DockerSandbox(Sandbox):
    """Runs the runner in a fresh hardened container per ``start``; ``kill`` removes them all."""

    name = "docker"
    is_security_boundary = True

    def __init__(self, spec: SandboxSpec, *, image: str | None = None) -> None:
        super().__init__(spec)
        self._image = image
        self.owner = secrets.token_hex(8)
        self.containers: list[str] = []
        # The docker clients, each held by a pidfd from its start: the session may
        # reap one (Popen.poll) long before kill() runs, and its pid is then anyone's.
        self.procs: list[OwnedProcess] = []
        # What became of the latest container, read by ``_inspect_latest`` before removal.
        self.latest: str | None = None
        self.latest_oom_killed = False
        self.latest_vanished = False
        self.latest_inspected = False
        # The latest container's id (docker run --cidfile) and its cgroup's CPU meter,
        # found once the container exists: the time limits are counted in its CPU time.
        self.cid_dir: Path | None = None
        self.latest_cid: Path | None = None
        self.latest_meter: CpuMeter | None = None
        # Where the engine's containers' cgroups cannot be seen from here (another cgroup
        # driver or namespace), the limits are counted in wall time, and said so.
        self.measures_cpu = container_cgroups_visible()
        self.channels = 0  # runners that spoke over a socket (channel.py), not docker attach
        self.why_wall_clock = (
            "" if self.measures_cpu else "the containers' cgroups are not visible here"
        )

    @property
    def image(self) -> str:
        """The environment's image tag (looked up once; raises SandboxUnavailable if missing)."""
        if self._image is None:
            self._image = image_for(self.spec.environment)
        return self._image

    def run_argv(
        self, container: str, argv: list[str], *, swap_limit: bool = True, image: str | None = None
    ) -> list[str]:
        """The full ``docker run`` command line for ``argv`` in a container named ``container``."""
        lim = self.spec.limits
        root = Path(self.spec.root).resolve()
        if any(ch in str(root) for ch in ":,"):
            # -v splits on ':'; refusing is simpler than escaping.
            raise ValueError(f"sandbox root {root} must not contain ':' or ','")
        threads = str(max(1, int(lim.cpus)))
        tmpfs_bytes = lim.tmpfs_mb * 1024 * 1024
        # No --rm: a container that ended is inspected (was it OOM-killed, or removed from
        # outside?) before ``kill`` removes it; the reaper removes any a crash left.
        cmd = ["docker", "run", "-i", "--pull", "never", "--name", container,
               "--label", f"{LABEL_SANDBOX}=1", "--label", f"{LABEL_LABEL}={self.spec.label}",
               "--label", f"{LABEL_STARTED}={int(time.time())}",
               "--label", f"{LABEL_OWNER}={self.owner}",
               "--network", "none", "--hostname", "sandbox", "--ipc", "private",
               "--read-only",
               "--tmpfs", f"/tmp:rw,size={lim.tmpfs_mb}m,mode=1777",
               "--shm-size", f"{lim.tmpfs_mb}m",
               "--memory", f"{lim.memory_mb}m"]  # fmt: skip
        if swap_limit:
            cmd += ["--memory-swap", f"{lim.memory_mb}m"]
        cmd += ["--pids-limit", str(lim.pids), "--cpus", f"{lim.cpus:g}",
                "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
                "--user", SANDBOX_USER, "--init",
                "--ulimit", f"fsize={tmpfs_bytes}:{tmpfs_bytes}",
                "--ulimit", f"nofile={NOFILE}:{NOFILE}",
                "--ulimit", f"cpu={lim.cpu_seconds}:{lim.cpu_seconds}",
                "--ulimit", "core=0:0",
                "--log-driver", "none",
                "-v", f"{root}:{SANDBOX_ROOT}:ro",
                "-w", "/tmp",
                "-e", "HOME=/tmp", "-e", "LANG=C.UTF-8",
                # No passwd entry for the uid: getpass.getuser() reads these first.
                "-e", "USER=sandbox", "-e", "LOGNAME=sandbox",
                "-e", "PYTHONDONTWRITEBYTECODE=1", "-e", "PYTHONHASHSEED=0",
                "-e", f"OMP_NUM_THREADS={threads}", "-e", f"OPENBLAS_NUM_THREADS={threads}",
                "-e", f"MKL_NUM_THREADS={threads}"]  # fmt: skip
        if self.spec.gpu:
            cmd += ["--gpus", "all"]
        return [*cmd, image or self.image, *argv]

    def start(self, argv: list[str]) -> subprocess.Popen[bytes]:
        info = _require_engine()
        if not Path(self.spec.root).is_dir():
            # Docker would create a missing bind source as root: refuse instead.
            raise ValueError(f"sandbox root {self.spec.root} is not a folder")
        container = f"dlgrade-{secrets.token_hex(6)}"
        listener = channel_for(info, Path(self.spec.root), argv)
        if listener is not None:
            argv = listener.runner_argv(argv)
        cmd = self.run_argv(container, argv, swap_limit=bool(info.get("SwapLimit")))
        self.containers.append(container)
        self.latest = container
        self.latest_oom_killed = self.latest_vanished = self.latest_inspected = False
        if self.latest_meter is not None:
            self.latest_meter.close()
        self.latest_meter = None
        if self.cid_dir is None:
            self.cid_dir = Path(tempfile.mkdtemp(prefix="dlgrade-cid-"))
        self.latest_cid = self.cid_dir / f"{container}.cid"
        cmd[2:2] = ["--cidfile", str(self.latest_cid)]
        try:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=cli_env(),
                # The worker's terminal signals must not reach the client (and through
                # it the container); kill() is the only way a sandbox ends early.
                start_new_session=True,
            )
        except FileNotFoundError as exc:
            self.containers.remove(container)
            if listener is not None:
                listener.close()
            raise SandboxUnavailable("no docker client on PATH") from exc
        try:
            self.procs.append(OwnedProcess(proc))
        except OSError as exc:
            # No pidfd (a kernel before 5.3): refuse rather than keep a bare pid to signal.
            proc.kill()
            proc.wait()
            self.kill()
            if listener is not None:
                listener.close()
            raise SandboxUnavailable(f"cannot hold the docker client by a pidfd: {exc}") from None
        if listener is not None:
            self.connect_channel(listener, proc)
        return proc

    def connect_channel(self, listener: Listener, proc: subprocess.Popen[bytes]) -> None:
        """The runner's channel in place of ``proc``'s pipes; on failure, everything killed."""
        pidfd = self.procs[-1].pidfd
        try:
            if pidfd is None:
                raise SandboxUnavailable("the docker client is no longer held")
            listener.connect(proc, pidfd)
        except SandboxUnavailable:
            self.kill()
            raise
        self.channels += 1

    def _leftovers(self) -> list[str]:
        done = docker_cli(
            ["ps", "-a", "-q", "--filter", f"label={LABEL_OWNER}={self.owner}"], timeout=30
        )
        if done.returncode != 0:
            raise SandboxUnavailable(f"docker ps failed: {done.stderr.decode(errors='replace')}")
        return done.stdout.decode().split()

    def _inspect_latest(self) -> None:
        """Record whether the latest container was OOM-killed or is gone, before removing it.

        Asked only when its client was seen to end on its own with a failure (a
        runner found dead): a container this sandbox kills needs no inquest. A
        container that ``kill`` has not removed yet and Docker no longer knows
        was removed by someone else.
        """
        if self.latest_inspected or self.latest is None or self.latest not in self.containers:
            return
        client = self.procs[-1].proc if self.procs else None
        if client is None or client.returncode in (None, 0):
            return
        self.latest_inspected = True
        try:
            done = docker_cli(
                ["inspect", "--format", "{{.State.OOMKilled}}", self.latest], timeout=30
            )
        except SandboxUnavailable as exc:
            log.warning("could not inspect sandbox container %s: %s", self.latest, exc)
            return
        if done.returncode == 0:
            self.latest_oom_killed = done.stdout.decode().strip() == "true"
        elif b"no such" in done.stderr.lower():
            self.latest_vanished = True

    def _meter(self) -> CpuMeter | None:
        """The latest container's CPU meter, once Docker has created it (else None)."""
        if self.latest_meter is None and self.latest_cid is not None:
            try:
                cid = self.latest_cid.read_text().strip()
            except OSError:
                return None  # not created yet
            if cid:
                # None while its cgroup does not exist yet, or no longer (it has exited:
                # its client's end of the pipe says so at once).
                self.latest_meter = container_cpu_meter(cid)
        return self.latest_meter

    def cpu_seconds(self) -> float | None:
        meter = self._meter()
        return meter.cpu_seconds() if meter is not None else None

    def waiting_seconds(self) -> float | None:
        meter = self._meter()
        return meter.waiting_seconds() if meter is not None else None

    def close(self) -> None:
        self.kill()
        if self.latest_meter is not None:
            self.latest_meter.close()
        if self.cid_dir is not None:
            shutil.rmtree(self.cid_dir, ignore_errors=True)
            self.cid_dir = None

    def oom_kills(self) -> int:
        """1 when Docker saw the kernel kill the latest container's processes for memory."""
        self._inspect_latest()
        return int(self.latest_oom_killed)

    def vanished(self) -> bool:
        self._inspect_latest()
        return self.latest_vanished

    def kill(self) -> None:
        """Remove every container this sandbox started and end their clients. Idempotent.

        Removing a container kills its whole PID namespace, so nothing the
        submission started survives, whatever signals it ignores.
        """
        self._inspect_latest()
        for owned in self.procs:
            owned.send(signal.SIGKILL)  # through the pidfd: a no-op once reaped
        if self.containers:
            try:
                docker_cli(["rm", "-f", *self.containers], timeout=60)
                # A kill that raced a start may find its container created a moment
                # after the rm: look again by owner label until none is left.
                for _ in range(20):
                    left = self._leftovers()
                    if not left:
                        break
                    docker_cli(["rm", "-f", *left], timeout=60)
                    time.sleep(0.1)
                else:
                    raise SandboxUnavailable(f"containers {left} survive docker rm -f")
            except SandboxUnavailable as exc:
                # Keep the names: a later kill (or the reaper) tries again.
                log.warning("could not remove sandbox containers %s: %s", self.containers, exc)
                return
            self.containers.clear()
        for owned in self.procs:
            try:
                owned.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                log.warning("docker client %s did not exit after SIGKILL", owned.pid)
            else:
                owned.close()
        self.procs = [owned for owned in self.procs if owned.proc.returncode is None]

    def describe(self) -> dict[str, object]:
        facts = super().describe()
        facts["image"] = self._image
        facts["channel"] = "unix socket" if self.channels else "docker attach"
        return facts


def channel_for(info: dict, folder: Path, argv: list[str]) -> Listener | None:
    """A listener for the runner's channel (channel.py) where ``argv`` starts the runner.

    None for any other program, and where the container's uid is not the one the
    socket sees (an engine remapping uids, or rootless): there the pipes carry it.
    """
    if argv[1:2] != [f"{SANDBOX_ROOT}/runner/runner.py"]:
        return None
    options = " ".join(str(o) for o in info.get("SecurityOptions") or ())
    if "name=userns" in options or "name=rootless" in options:
        return None
    try:
        return Listener(folder, SANDBOX_UID)
    except SandboxUnavailable as exc:  # a folder path too long for a socket, say
        log.info("the runner's channel goes through docker attach: %s", exc)
        return None


def reap_orphans(max_age_s: float) -> list[str]:
    """Remove dlgrade sandbox containers started more than ``max_age_s`` ago; return their names.

    For the worker's periodic reaper: a worker that crashed mid-grading leaves
    its containers running. A container whose start label cannot be read counts
    as old.
    """
    listing = f'{{{{.Names}}}}\t{{{{.Label "{LABEL_STARTED}"}}}}'
    done = docker_cli(
        ["ps", "-a", "--filter", f"label={LABEL_SANDBOX}=1", "--format", listing], timeout=30
    )
    if done.returncode != 0:
        raise SandboxUnavailable(f"docker ps failed: {done.stderr.decode(errors='replace')}")
    now = time.time()
    old = []
    for line in done.stdout.decode().splitlines():
        name, _, started = line.partition("\t")
        try:
            age = now - float(started)
        except ValueError:
            age = float("inf")
        if age > max_age_s:
            old.append(name)
    if old:
        docker_cli(["rm", "-f", *old], timeout=120)
    return old
