"""The host around the sandbox: never a signal to a pid the grader reaped, no host data
inside the local sandbox, and the manifest's CPU share enforced (issue 7, holes 1, 7, 8).

Signals: every test under tests/grader runs under the signal trace of
``tests/grader/conftest.py`` (a signal or pidfd aimed at a pid after this
process reaped it fails the test). Here the attack that opens the window, a
runner that exits between two calls, is driven step by step; and once more in a
private PID namespace, where the reaped pid is handed to a victim process
(``/proc/sys/kernel/ns_last_pid``) that must survive the grader's clean-up.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from grader.assignment import Assignment, load_assignment
from grader.config import data_dir
from grader.engine import prepare_root
from grader.sandbox import (
    SandboxLimits,
    SandboxSpec,
    SandboxUnavailable,
    docker_ready,
    make_sandbox,
)
from grader.sandbox.base import Sandbox
from grader.sandbox.cgroups import CgroupLayout, _weigh_sandboxes, cgroup_layout
from grader.sandbox.local import LocalSandbox, bwrap_path
from grader.session import RunnerSession
from tests.conftest import IN_CI, require
from tests.grader.conftest import SignalTrace

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
FIXTURE = HERE / "redteam" / "assignment"
EXIT_BETWEEN_CALLS = HERE / "redteam" / "attacks" / "exit_between_calls.py"
CALL_SECONDS = 3.0
SETTLE_S = 30.0  # a runner that has exited is a zombie well within this

pytestmark = pytest.mark.filterwarnings("ignore::grader.sandbox.local.UnsafeSandboxWarning")


# -- a runner that exits between two calls ---------------------------------------------------


def _call(name: str, *args: np.ndarray) -> dict:
    return {"op": "call", "name": name, "args": list(args), "kwargs": {}}


def _state(pid: int) -> str:
    """The process's state letter (Z: exited, not yet reaped); '' when there is none."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return ""


def _waitable(pid: int) -> bool:
    """Whether our child ``pid`` has exited and can be reaped (checked without reaping it)."""
    return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None


def wait_until_exited(pid: int) -> None:
    """Wait (without reaping it: that is the grader's part) until our child ``pid`` has exited.

    Waitable, not merely shown as a zombie: the Docker client is multithreaded, and its
    leader thread reads "Z" in /proc while the rest of the process is still going down,
    when waitpid (and so the session's poll()) does not report it yet.
    """
    deadline = time.monotonic() + SETTLE_S
    while not _waitable(pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _waitable(pid), f"the runner {pid} did not exit after add()"


def open_session(kind: str, work: Path) -> tuple[Assignment, Sandbox, RunnerSession]:
    assignment = load_assignment(FIXTURE)
    root = prepare_root(assignment, EXIT_BETWEEN_CALLS, work)
    box = make_sandbox(kind, SandboxSpec(root=root, limits=assignment.limits))
    return assignment, box, RunnerSession(box, assignment.load, output_limit=8192)


def exit_between_calls(session: RunnerSession) -> int:
    """add() answers and the runner exits; the next call reaps it and starts a fresh one.

    Returns the old runner's pid, reaped by the session by then.
    """
    x = np.arange(3.0)
    np.testing.assert_array_equal(session.request(_call("add", x, x), CALL_SECONDS), x + x)
    assert session.proc is not None
    old = session.proc.pid
    wait_until_exited(old)
    got = session.request(_call("center", x), CALL_SECONDS)
    np.testing.assert_allclose(got, x - x.mean())
    assert session.starts == 2 and session.proc.pid != old
    assert _state(old) in ("", "R", "S", "D") and session.proc.poll() is None
    return old


@pytest.fixture
def work() -> Iterator[Path]:
    # Like the engine's, in /tmp: the sandbox user must be able to reach it.
    path = Path(tempfile.mkdtemp(prefix="dlgrade-host-safety-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.parametrize(
    "kind",
    [
        pytest.param("local", marks=pytest.mark.bwrap),
        pytest.param("docker", marks=pytest.mark.docker),
    ],
)
def test_runner_gone_between_calls_is_never_signalled_again(
    kind: str, work: Path, signal_trace: SignalTrace
) -> None:
    if kind == "local":
        require(bwrap_path() is not None, "bubblewrap", "apt-get install bubblewrap")
    else:
        require(
            docker_ready("numpy"),
            "Docker engine and sandbox images",
            "scripts/start_docker.sh && .venv/bin/dlgrade images build",
        )
    _, box, session = open_session(kind, work)
    try:
        old = exit_between_calls(session)
        assert old in signal_trace.reaped  # the session reaped it: from here it is anyone's
    finally:
        session.close()
        box.close()
    assert signal_trace.violations == []
    assert signal_trace.signals > 0  # the trace saw the clean-up's signals


STRAY_PROBE = (
    "import contextlib, os, subprocess\n"
    "child = subprocess.Popen(['true'])\n"
    "child.wait()\n"
    "with contextlib.suppress(OSError):\n"
    "    os.kill(child.pid, 0)  # signal 0: checks, delivers nothing\n"
)


def test_the_trace_sees_a_signal_after_a_reap(signal_trace: SignalTrace) -> None:
    """The trace is no formality: a reap then a kill is caught, here and in a subprocess.

    The probe sends signal 0 (nothing is delivered), and the caught violations
    are cleared before the fixture judges this test.
    """
    exec(STRAY_PROBE, {})
    assert len(signal_trace.violations) == 1
    assert signal_trace.violations[0].startswith("kill(")
    assert "was reaped by Popen" in signal_trace.violations[0]
    signal_trace.violations.clear()
    reports = Path(os.environ["DLGRADE_SIGNAL_TRACE_DIR"])
    done = subprocess.run([sys.executable, "-c", STRAY_PROBE], capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    found = [json.loads(p.read_text()) for p in reports.glob("*.json")]
    stray = [f for f in found if f["violations"]]
    assert len(stray) == 1 and "was reaped by Popen" in stray[0]["violations"][0]
    for report in reports.glob("*.json"):
        report.unlink()


def recycled_pid_scenario() -> None:
    """Run as PID 1 of a private PID namespace: the victim gets the reaped runner's pid.

    Prints one JSON line: the reaped pid, the victim's pid, and whether the
    victim (a session leader, so its pid is also a process group) survived the
    grader's clean-up.
    """
    work = Path(tempfile.mkdtemp(prefix="dlgrade-recycled-pid-"))
    try:
        # Without cgroups: the kill then rests on the processes alone, where the bug was.
        assignment = load_assignment(FIXTURE)
        root = prepare_root(assignment, EXIT_BETWEEN_CALLS, work)
        box = LocalSandbox(SandboxSpec(root=root, limits=assignment.limits), use_cgroups=False)
        session = RunnerSession(box, assignment.load, output_limit=8192)
        old = exit_between_calls(session)
        victim = None
        for _ in range(50):  # nothing else forks here; a retry only if something did
            with open("/proc/sys/kernel/ns_last_pid", "w") as fh:
                fh.write(str(old - 1))
            victim = subprocess.Popen(["sleep", "600"], start_new_session=True)
            if victim.pid == old:
                break
            victim.kill()
            victim.wait()
        assert victim is not None
        session.close()
        box.close()
        alive = victim.poll() is None
        print(json.dumps({"reaped": old, "victim": victim.pid, "alive": alive}), flush=True)
        victim.kill()
        victim.wait()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_a_process_given_the_reaped_pid_survives_the_clean_up() -> None:
    require(bwrap_path() is not None, "bubblewrap", "apt-get install bubblewrap")
    unshare = shutil.which("unshare")
    require(
        unshare is not None and os.getuid() == 0,
        "root and util-linux's unshare (a private PID namespace)",
        "run the tests as root with util-linux installed",
    )
    code = "from tests.grader.test_host_safety import recycled_pid_scenario as s; s()"
    done = subprocess.run(
        [unshare, "--pid", "--fork", "--mount-proc", "--kill-child", sys.executable, "-c", code],
        capture_output=True,
        cwd=REPO,
        timeout=180,
        env={**os.environ, "DLGRADE_DATA_DIR": str(data_dir())},
    )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    found = json.loads(done.stdout.decode().splitlines()[-1])
    assert found["victim"] == found["reaped"]  # the number really was handed on
    assert found["alive"], f"the grader killed pid {found['victim']}, which it had reaped"


# -- host data: an allow-list, not all of /usr ----------------------------------------------

PROBE = """
    import json, os, sys
    found = {}
    for path in sys.argv[1:]:
        seen = []
        try:
            if os.path.isdir(path):
                seen = sorted(os.listdir(path))[:5] or ["(empty folder)"]
            else:
                with open(path, "rb") as fh:
                    seen = [repr(fh.read(40))]
        except OSError:
            pass
        if os.path.lexists(path) or seen:
            found[path] = seen or ["(exists)"]
    print(json.dumps(found))
"""


def host_secrets() -> list[str]:
    """Host paths a submission must not read: datasets, the repository, services' files."""
    data = data_dir()
    paths = [
        "/usr/share/datasets",
        "/usr/share/datasets/fashion-mnist",
        "/usr/share",
        "/usr/local",
        "/usr/lib/postgresql",
        "/usr/include",
        str(REPO),
        str(REPO / "README.md"),
        str(REPO / "reference"),
        str(REPO / "reference" / "data.py"),
        str(REPO / "assignments"),
        str(REPO / "assignments" / "activations" / "checks.py"),
        str(data),
        str(data / "dlgrade.sqlite"),
        str(data / "broker.sqlite"),
        str(data / "services"),
        str(data / "datasets"),
        "/etc/redis",
        "/etc/redis/redis.conf",
        "/etc/postgresql",
        "/var/lib/postgresql",
        "/var/lib/redis",
        "/etc/passwd",
        "/etc/shadow",
        "/root",
        "/home",
        "/work",
        "/opt/wheels",
        "/var/run/docker.sock",
    ]
    return paths + [str(p) for p in data.glob("*") if p.name != "envs"]


def probe_paths(box: LocalSandbox, paths: list[str]) -> dict[str, list[str]]:
    try:
        proc = box.start(["python3", "-c", textwrap.dedent(PROBE), *paths])
        out, err = proc.communicate(timeout=60)
    finally:
        box.close()
    assert proc.returncode == 0, err.decode()[-2000:]
    return json.loads(out)


@pytest.fixture
def sandbox_root() -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="dlgrade-test-host-"))
    for sub in ("runner", "submission", "data"):
        (root / sub).mkdir()
    for path in (root, *root.rglob("*")):
        path.chmod(0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def test_no_host_data_is_visible_in_the_local_sandbox(sandbox_root: Path) -> None:
    require(bwrap_path() is not None, "bubblewrap", "apt-get install bubblewrap")
    box = LocalSandbox(SandboxSpec(root=sandbox_root))
    found = probe_paths(box, host_secrets())
    assert found == {}, "readable in the sandbox:\n" + "\n".join(
        f"{k}: {v}" for k, v in found.items()
    )


ENV_PROBE = """
    import json, sys
    import numpy
    versions = {"numpy": numpy.__version__}
    if "torch" in sys.argv[1:]:
        import torch
        versions["torch"] = torch.__version__
        versions["sum"] = float(torch.ones(3).sum())
    versions["numpy_sum"] = float(numpy.ones(3).sum())
    print(json.dumps(versions))
"""


@pytest.mark.parametrize("environment", ["numpy", "torch"])
def test_the_environment_still_imports(sandbox_root: Path, environment: str) -> None:
    require(bwrap_path() is not None, "bubblewrap", "apt-get install bubblewrap")
    try:
        box = LocalSandbox(SandboxSpec(root=sandbox_root, environment=environment))
    except SandboxUnavailable as exc:
        require(False, f"the '{environment}' environment ({exc})", "make test (builds it)")
        raise
    try:
        proc = box.start(["python3", "-c", textwrap.dedent(ENV_PROBE), environment])
        out, err = proc.communicate(timeout=180)
    finally:
        box.close()
    assert proc.returncode == 0, err.decode()[-3000:]
    found = json.loads(out)
    assert found["numpy_sum"] == 3.0
    if environment == "torch":
        assert found["sum"] == 3.0 and found["torch"]


# -- CPU: the manifest's share, for all processes together ------------------------------------

# Two children spin for BUSY_S of wall time each; the parent reports their CPU time.
BUSY_S = 3.0
BUSY = f"""
    import json, os, time
    start = time.monotonic()
    children = []
    for _ in range(2):
        pid = os.fork()
        if pid == 0:
            while time.monotonic() < start + {BUSY_S}:
                pass
            os._exit(0)
        children.append(pid)
    for pid in children:
        os.waitpid(pid, 0)
    times = os.times()
    print(json.dumps({{"wall": time.monotonic() - start,
                      "cpu": times.children_user + times.children_system}}))
"""
# A tenth of a core: two busy children without a quota take far more than that
# even on this shared 2-core machine under a load of 10, so the test tells a
# quota from none; with it, they get no more, however idle the machine.
TENTH_CORE = SandboxLimits(memory_mb=256, cpus=0.1, pids=16, tmpfs_mb=8, cpu_seconds=60)
# The quota is enforced per 100 ms period: over a wall time W, at most cpus * W
# plus one period's quota (10 ms). 0.2 s more is far beyond that, and far below
# what an unlimited run takes.
CPU_SLACK_S = 0.2


def cpu_controller_offered() -> bool:
    """Whether the kernel offers the cpu controller (/proc/cgroups), whatever the grader does."""
    try:
        lines = Path("/proc/cgroups").read_text().splitlines()[1:]
    except OSError:
        return False
    return any(line.split()[0] == "cpu" and line.split()[-1] == "1" for line in lines)


def test_two_busy_children_share_the_manifests_cpus(sandbox_root: Path) -> None:
    require(bwrap_path() is not None, "bubblewrap", "apt-get install bubblewrap")
    layout, why = cgroup_layout()
    require(
        layout is not None and cpu_controller_offered(),
        f"cgroups with a cpu controller ({why or 'the kernel offers no cpu controller'})",
        "run as root on a machine with cgroup v1's cpu controller or cgroup v2 with cpu",
    )
    assert layout is not None
    box = LocalSandbox(SandboxSpec(root=sandbox_root, limits=TENTH_CORE))
    try:
        proc = box.start(["python3", "-c", textwrap.dedent(BUSY)])
        out, err = proc.communicate(timeout=60)
    finally:
        box.close()
    assert proc.returncode == 0, err.decode()[-2000:]
    used = json.loads(out)
    assert used["wall"] >= BUSY_S
    assert used["cpu"] > 0.0  # they did run
    assert used["cpu"] <= TENTH_CORE.cpus * used["wall"] + CPU_SLACK_S, used
    assert box.describe()["cpu_limit"] == f"0.1 cpu ({layout.mechanism} quota)"


def test_cpu_limit_says_when_it_is_not_enforced(sandbox_root: Path) -> None:
    box = LocalSandbox(SandboxSpec(root=sandbox_root), use_cgroups=False)
    assert box.describe()["cpu_limit"] == "not enforced"
    layout, _ = cgroup_layout()
    if layout is not None and layout.has("cpu"):
        facts = LocalSandbox(SandboxSpec(root=sandbox_root)).describe()
        assert facts["cpu_limit"] == f"1 cpu ({layout.mechanism} quota)"
    elif IN_CI:
        pytest.fail("CI=true and the cpu cgroup controller is not available")


def test_the_sandboxes_together_weigh_less_than_one_service_process() -> None:
    """Under contention, the portal, database and broker come before all sandboxes together.

    Weighed on a cpu group of this test's own: the host's shared sandbox parent is
    rewritten by every grading process that starts on this machine.
    """
    layout, why = cgroup_layout()
    require(
        layout is not None and layout.has("cpu"),
        f"cgroups with a cpu controller ({why or 'none offered'})",
        "run as root on a machine with cgroup v1's cpu controller or cgroup v2 with cpu",
    )
    assert layout is not None
    own = layout.homes["cpu"] / f"weigh-test-{os.getpid()}"
    own.mkdir()
    try:
        _weigh_sandboxes(CgroupLayout(layout.version, {"cpu": own}))
        if layout.version == 1:
            # 1024 is the kernel's weight of one process under cgroup v1: half of it.
            assert int((own / "cpu.shares").read_text()) == 512
        else:
            # 100 is the kernel's weight of one process under cgroup v2: half of it.
            assert int((own / "cpu.weight").read_text()) == 50
    finally:
        own.rmdir()
