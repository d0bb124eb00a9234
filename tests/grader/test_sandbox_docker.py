"""The Docker sandbox holds its limits, seen from inside the container and from outside.

Each test starts a small ``python3 -c`` program through ``DockerSandbox`` and
checks what it can and cannot do (network, filesystem, identity, memory,
processes, environment), or what Docker reports about the container. The
isolation tests (``started_in``) run twice: in a cold container, and in one
that a worker's warm pool had started before the program existed. Tests
marked ``docker`` need a running engine and the built images; the command-line
tests at the end need neither.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.config import REPO_ROOT
from grader.sandbox import docker as docker_backend
from grader.sandbox.base import SandboxLimits, SandboxSpec, SandboxUnavailable
from grader.sandbox.docker import DockerSandbox, docker_available, reap_orphans
from grader.sandbox.images import BUILD_COMMAND, SANDBOX_UID, image_for
from grader.sandbox.pool import ContainerPool, PooledDockerSandbox
from tests.conftest import require

HOW = "scripts/start_docker.sh && .venv/bin/python -m grader.sandbox.images build"
RUN_TIMEOUT_S = 60
SMALL = SandboxLimits(memory_mb=256, cpus=1.0, pids=32, tmpfs_mb=16, cpu_seconds=60)


@pytest.fixture(scope="module")
def images() -> dict[str, str]:
    require(docker_available(), "Docker engine", HOW)
    try:
        return {env: image_for(env) for env in ("numpy", "torch")}
    except SandboxUnavailable as exc:
        require(False, f"the sandbox images ({exc})", HOW)
        raise


@pytest.fixture
def sandbox_root(tmp_path: Path) -> Path:
    """A prepared folder like the engine's: runner/, submission/, data/."""
    for sub in ("runner", "submission", "data"):
        (tmp_path / sub).mkdir()
    (tmp_path / "submission" / "marker.txt").write_text("student file\n")
    # The bind mount must be readable by the sandbox user, as the engine's is.
    for path in (tmp_path, *tmp_path.rglob("*")):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return tmp_path


# Where run_python starts its sandbox: a cold container, or one from a worker's warm pool.
_pool: ContainerPool | None = None


@pytest.fixture(scope="module")
def docker_pool() -> Iterator[ContainerPool]:
    pool = ContainerPool(size=1, refill=False)  # filled by run_python, before each start
    yield pool
    pool.close()


@pytest.fixture(params=["cold", "pooled"])
def started_in(request: pytest.FixtureRequest) -> Iterator[str]:
    """The isolation tests hold for a cold container and for a pooled one alike."""
    global _pool
    _pool = request.getfixturevalue("docker_pool") if request.param == "pooled" else None
    try:
        yield request.param
    finally:
        _pool = None


def run_python(
    root: Path,
    code: str,
    *,
    env: str = "numpy",
    limits: SandboxLimits = SMALL,
    label: str = "test",
    stdin: bytes = b"",
) -> tuple[int, bytes, bytes]:
    """Run ``python3 -c code`` in a fresh sandbox; return (exit status, stdout, stderr)."""
    spec = SandboxSpec(root=root, environment=env, limits=limits, label=label)
    if _pool is None:
        box = DockerSandbox(spec)
    else:
        assert _pool.fill(spec) == 1
        box = PooledDockerSandbox(spec, _pool)
    try:
        proc = box.start(["python3", "-c", textwrap.dedent(code)])
        if _pool is not None:
            assert (box.pooled_starts, box.cold_starts) == (1, 0)
        out, err = proc.communicate(stdin, timeout=RUN_TIMEOUT_S)
        return proc.returncode, out, err
    finally:
        box.kill()


def run_json(root: Path, code: str, **kw) -> dict:
    status, out, err = run_python(root, code, **kw)
    assert status == 0, err.decode(errors="replace")
    return json.loads(out.decode().strip().splitlines()[-1])


def labelled(label: str) -> list[str]:
    done = subprocess.run(
        ["docker", "ps", "-a", "-q", "--filter", f"label=dlgrade.label={label}"],
        capture_output=True,
        check=True,
    )
    return done.stdout.decode().split()


def host_processes_with(marker: str) -> list[int]:
    """Host pids whose command line contains ``marker`` (the host sees every container process)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@pytest.mark.docker
def test_pipes_carry_binary_data_and_docker_adds_nothing(
    images, started_in, sandbox_root: Path
) -> None:
    payload = bytes(range(256)) * 64
    status, out, err = run_python(
        sandbox_root,
        "import sys; sys.stdout.buffer.write(sys.stdin.buffer.read()[::-1])",
        stdin=payload,
    )
    assert (status, out, err) == (0, payload[::-1], b"")


@pytest.mark.docker
def test_no_network_at_all(images, started_in, sandbox_root: Path) -> None:
    # A server on every host address: any route out of the container would reach it.
    server = socket.create_server(("0.0.0.0", 0))
    server.settimeout(0.1)
    port = server.getsockname()[1]
    host_ip = socket.gethostbyname(socket.gethostname())
    targets = [("127.0.0.1", port), (host_ip, port), ("172.17.0.1", port), ("1.1.1.1", 53)]
    try:
        found = run_json(
            sandbox_root,
            f"""
            import errno, json, os, socket
            results = {{}}
            for host, port in {targets!r}:
                s = socket.socket()
                s.settimeout(3)
                try:
                    s.connect((host, port))
                    results[host] = "connected"
                except OSError as exc:
                    results[host] = errno.errorcode.get(exc.errno, str(exc))
            interfaces = sorted(os.listdir("/sys/class/net"))
            print(json.dumps({{"connect": results, "interfaces": interfaces}}))
            """,
        )
        with pytest.raises(TimeoutError):
            server.accept()
    finally:
        server.close()
    assert found["interfaces"] == ["lo"]
    assert set(found["connect"]) == {host for host, _ in targets}
    assert "connected" not in found["connect"].values(), found["connect"]
    assert found["connect"]["127.0.0.1"] == "ECONNREFUSED"  # the container's own loopback
    assert found["connect"]["1.1.1.1"] == "ENETUNREACH"


@pytest.mark.docker
def test_identity_capabilities_and_rlimits(images, started_in, sandbox_root: Path) -> None:
    found = run_json(
        sandbox_root,
        """
        import json, os, resource
        CAPS = ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")
        lines = open("/proc/self/status").read().splitlines()
        status = dict(line.split(":\\t", 1) for line in lines if ":\\t" in line)
        print(json.dumps({
            "ids": [os.getuid(), os.geteuid(), os.getgid(), os.getegid()],
            "groups": os.getgroups(),
            "caps": {k: int(status[k], 16) for k in CAPS},
            "no_new_privs": int(status["NoNewPrivs"]),
            "seccomp": int(status["Seccomp"]),
            "fsize": resource.getrlimit(resource.RLIMIT_FSIZE),
            "nofile": resource.getrlimit(resource.RLIMIT_NOFILE),
            "cpu": resource.getrlimit(resource.RLIMIT_CPU),
            "core": resource.getrlimit(resource.RLIMIT_CORE),
            "cwd": os.getcwd(),
            "pid1": open("/proc/1/cmdline", "rb").read().split(b"\\0")[0].decode(),
        }))
        """,
    )
    assert found["ids"] == [SANDBOX_UID] * 4
    assert 0 not in found["groups"]
    assert found["caps"] == dict.fromkeys(("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"), 0)
    assert found["no_new_privs"] == 1
    assert found["seccomp"] == 2  # the engine's default filter
    tmpfs_bytes = SMALL.tmpfs_mb * 1024 * 1024
    assert found["fsize"] == [tmpfs_bytes, tmpfs_bytes]
    assert found["nofile"] == [docker_backend.NOFILE] * 2
    assert found["cpu"] == [SMALL.cpu_seconds] * 2
    assert found["core"] == [0, 0]
    assert found["cwd"] == "/tmp"
    assert found["pid1"] != "python3"  # an init reaps and owns the namespace


@pytest.mark.docker
def test_filesystem_read_only_except_capped_tmp(images, started_in, sandbox_root: Path) -> None:
    found = run_json(
        sandbox_root,
        f"""
        import errno, importlib.util, json, os
        def attempt(path):
            try:
                with open(path, "w") as f:
                    f.write("x")
                return "written"
            except OSError as exc:
                return errno.errorcode[exc.errno]
        mounts = {{line.split()[1]: line.split()[3].split(",") for line in open("/proc/mounts")}}
        print(json.dumps({{
            "usr": attempt("/usr/evil"),
            "root": attempt("/evil"),
            "sandbox": attempt("/sandbox/submission/evil"),
            "tmp": attempt("/tmp/fine"),
            "marker": open("/sandbox/submission/marker.txt").read(),
            "mounts": {{p: mounts.get(p) for p in ("/", "/sandbox", "/tmp")}},
            "repo_visible": os.path.exists({str(REPO_ROOT)!r}),
            "sandbox_listing": sorted(os.listdir("/sandbox")),
            "importable": [m for m in ("reference", "grader", "worker", "web")
                           if importlib.util.find_spec(m) is not None],
        }}))
        """,
    )
    assert found["usr"] == found["root"] == found["sandbox"] == "EROFS"
    assert found["tmp"] == "written"
    assert found["marker"] == "student file\n"
    assert "ro" in found["mounts"]["/"]
    assert "ro" in found["mounts"]["/sandbox"]
    assert {"rw", "nosuid", "nodev", "noexec"} <= set(found["mounts"]["/tmp"])
    assert found["repo_visible"] is False
    assert found["sandbox_listing"] == ["data", "runner", "submission"]
    assert found["importable"] == []
    assert not (sandbox_root / "submission" / "evil").exists()


@pytest.mark.docker
def test_tmp_is_capped_at_tmpfs_mb(images, started_in, sandbox_root: Path) -> None:
    found = run_json(
        sandbox_root,
        """
        import errno, json
        chunk, written, files, error = b"x" * (1 << 20), 0, 0, None
        try:
            while written < (64 << 20):
                with open(f"/tmp/fill{files}", "wb") as f:  # several files: the cap, not fsize
                    for _ in range(4):
                        f.write(chunk)
                        f.flush()
                        written += len(chunk)
                files += 1
        except OSError as exc:
            error = errno.errorcode[exc.errno]
        print(json.dumps({"written_mb": written / (1 << 20), "error": error}))
        """,
    )
    assert found["error"] == "ENOSPC"
    assert SMALL.tmpfs_mb - 2 <= found["written_mb"] <= SMALL.tmpfs_mb


@pytest.mark.docker
def test_environment_is_scrubbed(
    images, started_in, sandbox_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = secrets.token_hex(16)
    monkeypatch.setenv("DLGRADE_TEST_SECRET", secret)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    status, out, err = run_python(
        sandbox_root, "import json, os; print(json.dumps(dict(os.environ)))"
    )
    assert status == 0, err
    environ = json.loads(out)
    assert secret.encode() not in out
    allowed = {"PATH", "HOME", "HOSTNAME", "LANG", "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED",
               "PYTHONHASHSEED", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
               "MKL_NUM_THREADS", "USER", "LOGNAME"}  # fmt: skip
    assert set(environ) <= allowed, set(environ) - allowed
    assert environ["HOME"] == "/tmp"
    # The uid has no passwd entry: getpass.getuser() (CUDA torch calls it) reads these.
    assert environ["USER"] == environ["LOGNAME"] == "sandbox"
    assert environ["PATH"].startswith("/opt/venv/bin:")


@pytest.mark.docker
def test_memory_hog_is_killed(images, started_in, sandbox_root: Path) -> None:
    limits = SandboxLimits(memory_mb=64, pids=32, tmpfs_mb=8)
    started = time.monotonic()
    status, out, _ = run_python(
        sandbox_root,
        """
        print("start", flush=True)
        hog = b"x" * (512 << 20)  # touches every page: far past the 64 MB limit
        print("survived", len(hog), flush=True)
        """,
        limits=limits,
    )
    assert status == 137  # SIGKILL by the kernel's OOM killer in the container's cgroup
    assert out == b"start\n"
    assert time.monotonic() - started < RUN_TIMEOUT_S


@pytest.mark.docker
def test_fork_bomb_is_contained_by_pids_limit(images, started_in, sandbox_root: Path) -> None:
    limits = SandboxLimits(memory_mb=256, pids=16, tmpfs_mb=8)
    marker = f"forkbomb-{secrets.token_hex(6)}"
    found = run_json(
        sandbox_root,
        f"""
        import errno, json, os, time
        MARK = {marker!r}
        children, error = 0, None
        while children < 1000:
            try:
                pid = os.fork()
            except OSError as exc:
                error = errno.errorcode[exc.errno]
                break
            if pid == 0:
                time.sleep(600)
                os._exit(0)
            children += 1
        print(json.dumps({{"children": children, "error": error}}))
        """,
        limits=limits,
    )
    assert found["error"] == "EAGAIN"
    # The init and the python3 itself count against the limit too.
    assert 0 < found["children"] < limits.pids
    assert host_processes_with(marker) == []


@pytest.mark.docker
@pytest.mark.parametrize(("env", "has_torch"), [("numpy", False), ("torch", True)])
def test_environments_hold_what_they_declare(
    images, started_in, sandbox_root: Path, env: str, has_torch: bool
) -> None:
    found = run_json(
        sandbox_root,
        """
        import json, shutil, sys
        import numpy as np
        try:
            import torch
            torch_result = float(torch.tensor([1.0, 2.0], dtype=torch.float64).sum())
        except ModuleNotFoundError:
            torch_result = None
        print(json.dumps({"python": shutil.which("python3"), "exe": sys.executable,
                          "numpy": float(np.arange(4.0).sum()), "torch": torch_result}))
        """,
        env=env,
        limits=SandboxLimits(memory_mb=1024, pids=64, tmpfs_mb=16),
    )
    assert found["python"] == found["exe"] == "/opt/venv/bin/python3"
    assert found["numpy"] == 6.0
    assert found["torch"] == (3.0 if has_torch else None)


@pytest.mark.docker
def test_kill_removes_daemons_and_the_container(images, sandbox_root: Path) -> None:
    label = f"test-kill-{secrets.token_hex(6)}"
    marker = f"daemon-{secrets.token_hex(6)}"
    spec = SandboxSpec(root=sandbox_root, limits=SMALL, label=label)
    box = DockerSandbox(spec)
    proc = box.start(["python3", "-c", textwrap.dedent(f"""
        import os, signal, sys, time
        MARK = {marker!r}
        if os.fork() == 0:                    # the classic double fork: a daemon that
            os.setsid()                       # outlives its parent and ignores SIGTERM
            if os.fork() == 0:
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
                signal.signal(signal.SIGHUP, signal.SIG_IGN)
                time.sleep(600)
            os._exit(0)
        time.sleep(0.5)
        print("ready", flush=True)
        time.sleep(600)
        """)])  # fmt: skip
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"ready\n"
        assert labelled(label) != []
        # The host sees the container's processes: the daemon is one of them (the
        # docker client's command line carries the marker too).
        assert len(host_processes_with(marker)) >= 3
        container = json.loads(
            subprocess.run(
                ["docker", "inspect", labelled(label)[0]], capture_output=True, check=True
            ).stdout
        )[0]
    finally:
        box.kill()
    assert proc.returncode is not None
    assert labelled(label) == []
    assert host_processes_with(marker) == []
    box.kill()  # idempotent
    box.close()

    # Seen from outside, the engine holds the container to the spec's limits, and
    # its labels let the reaper find it.
    labels = container["Config"]["Labels"]
    assert labels["dlgrade.sandbox"] == "1"
    assert labels["dlgrade.label"] == label
    assert abs(int(labels["dlgrade.started"]) - time.time()) < RUN_TIMEOUT_S
    inspected = container["HostConfig"]
    mib = 1024 * 1024
    assert inspected["Memory"] == SMALL.memory_mb * mib
    assert inspected["MemorySwap"] in (SMALL.memory_mb * mib, 0)  # 0: no swap accounting
    assert inspected["PidsLimit"] == SMALL.pids
    assert inspected["NanoCpus"] == int(SMALL.cpus * 1e9)
    assert inspected["NetworkMode"] == "none"
    assert inspected["ReadonlyRootfs"] is True
    assert inspected["Privileged"] is False
    assert inspected["CapDrop"] == ["ALL"]
    assert inspected["SecurityOpt"] == ["no-new-privileges"]
    assert inspected["Init"] is True
    assert inspected["LogConfig"]["Type"] == "none"
    assert inspected["Tmpfs"] == {"/tmp": f"rw,size={SMALL.tmpfs_mb}m,mode=1777"}
    assert inspected["Binds"] == [f"{sandbox_root.resolve()}:/sandbox:ro"]


@pytest.mark.docker
def test_start_again_after_kill(images, sandbox_root: Path) -> None:
    box = DockerSandbox(SandboxSpec(root=sandbox_root, limits=SMALL))
    try:
        for round_ in range(2):
            proc = box.start(["python3", "-c", f"print({round_})"])
            out, _ = proc.communicate(timeout=RUN_TIMEOUT_S)
            assert out == f"{round_}\n".encode()
            box.kill()
    finally:
        box.close()
    assert box.containers == []


@pytest.mark.docker
def test_reap_orphans_removes_only_old_containers(images) -> None:
    label = f"test-reap-{secrets.token_hex(6)}"
    now = int(time.time())
    names = {"old": f"dlgrade-reap-old-{secrets.token_hex(4)}",
             "fresh": f"dlgrade-reap-fresh-{secrets.token_hex(4)}"}  # fmt: skip
    for age, started in (("old", now - 3600), ("fresh", now)):
        cmd = ["docker", "create", "--name", names[age], "--network", "none",
               "--label", "dlgrade.sandbox=1", "--label", f"dlgrade.label={label}",
               "--label", f"dlgrade.started={started}", images["numpy"], "true"]  # fmt: skip
        subprocess.run(
            cmd,
            capture_output=True,
            check=True,
        )
    try:
        reaped = reap_orphans(600)
        assert names["old"] in reaped
        assert names["fresh"] not in reaped
        remaining = (
            subprocess.run(
                [
                    "docker",
                    "ps",
                    "-a",
                    "--format",
                    "{{.Names}}",
                    "--filter",
                    f"label=dlgrade.label={label}",
                ],
                capture_output=True,
                check=True,
            )
            .stdout.decode()
            .split()
        )
        assert remaining == [names["fresh"]]
    finally:
        subprocess.run(["docker", "rm", "-f", *names.values()], capture_output=True, check=False)


@pytest.mark.docker
def test_unknown_environment_is_unavailable(images, sandbox_root: Path) -> None:
    with pytest.raises(SandboxUnavailable, match="unknown sandbox environment"):
        DockerSandbox(SandboxSpec(root=sandbox_root, environment="tensorflow")).start(["true"])


# -- no engine needed -------------------------------------------------------------------------


def test_engine_that_does_not_answer_is_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    monkeypatch.setattr(docker_backend, "_engine_cache", None)
    try:
        assert docker_available() is False
        box = DockerSandbox(SandboxSpec(root=tmp_path), image="dlgrade-sandbox-numpy:any")
        with pytest.raises(SandboxUnavailable, match="does not answer"):
            box.start(["python3", "-c", "pass"])
        assert box.containers == []
    finally:
        docker_backend._engine_cache = None


def test_command_line_is_hardened_and_passes_nothing_of_the_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DLGRADE_TEST_SECRET", "do-not-pass")
    limits = SandboxLimits(memory_mb=300, cpus=2.0, pids=40, tmpfs_mb=32, cpu_seconds=90)
    spec = SandboxSpec(root=tmp_path, limits=limits, gpu=True, label="hw3/alice")
    cmd = DockerSandbox(spec, image="img:tag").run_argv("dlgrade-x", ["python3", "-V"])

    def value(flag: str) -> list[str]:
        return [cmd[i + 1] for i, arg in enumerate(cmd) if arg == flag]

    assert cmd[:2] == ["docker", "run"]
    assert cmd[-3:] == ["img:tag", "python3", "-V"]
    assert value("--network") == ["none"]
    assert value("--memory") == value("--memory-swap") == ["300m"]
    assert value("--pids-limit") == ["40"]
    assert value("--cpus") == ["2"]
    assert value("--cap-drop") == ["ALL"]
    assert value("--security-opt") == ["no-new-privileges"]
    assert value("--user") == [f"{SANDBOX_UID}:{SANDBOX_UID}"]
    assert value("--tmpfs") == ["/tmp:rw,size=32m,mode=1777"]
    assert value("-v") == [f"{tmp_path.resolve()}:/sandbox:ro"]
    assert value("--gpus") == ["all"]
    assert "dlgrade.label=hw3/alice" in value("--label")
    assert {"--read-only", "--init", "-i"} <= set(cmd)
    # Not --rm: the sandbox reads the container's OOM state after it ends (a memory verdict
    # needs the kernel's OOM kill), then removes it itself.
    assert "--rm" not in cmd
    env_names = {item.split("=", 1)[0] for item in value("-e")}
    assert env_names == {"HOME", "LANG", "PYTHONDONTWRITEBYTECODE", "PYTHONHASHSEED",
                         "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                         "USER", "LOGNAME"}  # fmt: skip
    assert "OMP_NUM_THREADS=2" in value("-e")
    assert not any("do-not-pass" in arg for arg in cmd)
    assert "--env-file" not in cmd
    assert "DLGRADE_TEST_SECRET" not in docker_backend.cli_env()


def test_missing_image_message_names_the_build_command(monkeypatch: pytest.MonkeyPatch) -> None:
    from grader.sandbox import images

    monkeypatch.setattr(images, "image_labels", lambda ref: None)
    with pytest.raises(SandboxUnavailable) as caught:
        image_for("numpy")
    assert BUILD_COMMAND in str(caught.value)


def test_image_from_another_recipe_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from grader.sandbox import images

    stale = {images.LABEL_RECIPE: "0" * 16, images.LABEL_HASH: "abc", images.LABEL_ENV: "numpy"}
    monkeypatch.setattr(images, "image_labels", lambda ref: stale)
    with pytest.raises(SandboxUnavailable, match="rebuild"):
        image_for("numpy")
    monkeypatch.setattr(
        images,
        "image_labels",
        lambda ref: {**stale, images.LABEL_RECIPE: images.recipe_hash("numpy")},
    )
    assert image_for("numpy") == "dlgrade-sandbox-numpy:abc"
