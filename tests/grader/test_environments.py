"""The sandbox environments carry the course's harmless helpers, from one list, in both
sandboxes; matplotlib is headless there, and a script that fails after it trained keeps
what it defined.

The course's templates start with `from tqdm import tqdm` and save training curves with
matplotlib: without them a correct homework scored 0 (issue 8).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.config import REPO_ROOT
from grader.sandbox import images, local
from grader.sandbox.base import SandboxLimits, SandboxSpec, SandboxUnavailable
from grader.session import LoadSpec, RunnerSession
from tests.conftest import require

HERE = Path(__file__).resolve().parents[2] / "grader"
LIMITS = SandboxLimits(memory_mb=1024, cpus=1, pids=32, tmpfs_mb=64, output_bytes=65536)

pytestmark = pytest.mark.filterwarnings("ignore::grader.sandbox.local.UnsafeSandboxWarning")

COURSE_SCRIPT = """\
import importlib.util
import os

import matplotlib.pyplot as plt
import numpy as np
from tqdm import tqdm

losses = [1.0 / (epoch + 1) for epoch in tqdm(range(10), desc="training")]
plt.plot(losses)
plt.title("loss")
plt.savefig("loss.png")
plt.show()  # harmless without a display
saved = os.path.getsize("loss.png")
backend = plt.get_backend()
has_torch = importlib.util.find_spec("torch") is not None
"""


def test_one_list_for_both_sandboxes():
    """The local sandbox's environments are the images' requirements, helpers included."""
    for env in ("numpy", "torch"):
        assert local.ENV_PACKAGES[env] == images.requirements(env)
        names = [r.split("==")[0] for r in local.ENV_PACKAGES[env]]
        assert {"numpy", "tqdm", "matplotlib"} <= set(names)
    assert not any(r.startswith("torch") for r in local.ENV_PACKAGES["numpy"])
    assert any(r.startswith("torch==") for r in local.ENV_PACKAGES["torch"])


def test_a_changed_list_changes_the_image_tag_and_the_local_marker(monkeypatch):
    """Both sandboxes rebuild when the list changes: the image recipe hashes it, and the
    local environment's ready-marker records it (a marker from another list is stale)."""
    before = images.recipe_hash("numpy")
    monkeypatch.setitem(images.ENVIRONMENTS, "numpy", ("numpy", "tqdm==4.70.1"))
    assert images.recipe_hash("numpy") != before
    target = local.ensure_env("numpy")
    marker = (target / ".dlgrade-ready").read_text()
    assert marker.split() == local.ENV_PACKAGES["numpy"]


@pytest.fixture
def root() -> Iterator[Path]:
    """A prepared sandbox folder holding the runner and a course-style script."""
    folder = Path(tempfile.mkdtemp(prefix="dlgrade-test-env-"))
    for sub in ("runner", "submission", "data"):
        (folder / sub).mkdir()
    for name in ("runner.py", "codec.py", "cuda_on_cpu.py"):
        if (HERE / name).exists():
            shutil.copyfile(HERE / name, folder / "runner" / name)
    (folder / "submission" / "hw.py").write_text(COURSE_SCRIPT)
    for path in (folder, *folder.rglob("*")):
        path.chmod(0o755 if path.is_dir() else 0o644)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _box(kind: str, root: Path, environment: str):
    spec = SandboxSpec(root=root, environment=environment, limits=LIMITS)
    if kind == "local":
        require(local.bwrap_path() is not None, "bubblewrap", "apt-get install bubblewrap")
        return local.LocalSandbox(spec)
    from grader.sandbox.docker import DockerSandbox, docker_available

    how = "scripts/start_docker.sh && .venv/bin/dlgrade images build"
    require(docker_available(), "Docker engine", how)
    try:
        images.image_for(environment)
    except SandboxUnavailable as exc:
        require(False, f"the sandbox images ({exc})", how)
    return DockerSandbox(spec)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["local", "docker"])
@pytest.mark.parametrize("environment", ["numpy", "torch"])
def test_course_script_runs_headless_in_each_environment(root, kind, environment):
    box = _box(kind, root, environment)
    session = RunnerSession(box, LoadSpec(file="hw.py", module="hw", mode="script", seconds=120))
    try:
        loaded = session.ensure_loaded()
        assert "error" not in loaded, loaded
        get = lambda name: session.request({"op": "get", "name": name}, 30)  # noqa: E731
        assert get("saved") > 1000  # a PNG, written into the scratch working directory
        assert get("backend").lower() == "agg"
        assert get("has_torch") is (environment == "torch")
    finally:
        session.close()
        box.close()
    output, _ = session.output()
    assert "training: 100%" in output  # tqdm's bar, captured like any output


@pytest.mark.slow
def test_a_script_that_fails_after_training_keeps_its_network(root):
    """A figure saved into a folder that does not exist: the script raised, but what it
    defined (its functions, its trained network) is still there to grade."""
    source = COURSE_SCRIPT + textwrap.dedent(
        """
        class Net:
            def forward(self, x):
                return x

        net = Net()
        plt.savefig("figures/accuracy.png")
        """
    )
    (root / "submission" / "hw.py").write_text(source)
    box = _box("local", root, "numpy")
    session = RunnerSession(box, LoadSpec(file="hw.py", module="hw", mode="script", seconds=120))
    try:
        loaded = session.ensure_loaded()
        assert loaded["global"] == "net" and loaded["handle"] is not None
        assert loaded["error"]["type"] == "FileNotFoundError"
        assert session.request({"op": "get", "name": "saved"}, 30) > 1000
    finally:
        session.close()
        box.close()


RACE = """
import sys
from grader.sandbox import local
local.ENV_PACKAGES["race-test"] = ["tqdm==4.70.1"]
print(local.ensure_env("race-test"))
"""


def test_workers_starting_together_build_one_environment(tmp_path):
    """Two processes asking for the same missing environment both get a working one.

    Without a lock, each deleted the other's half-built tree (FileNotFoundError on
    the ready-marker): two workers started together on a fresh host, or two test
    sessions, failed their first gradings.
    """
    env = {**os.environ, "DLGRADE_DATA_DIR": str(tmp_path), "PYTHONPATH": str(REPO_ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACE],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-2000:]
        assert out.strip() == str(tmp_path / "envs" / "race-test")
    python = tmp_path / "envs" / "race-test" / "bin" / "python3"
    done = subprocess.run([str(python), "-c", "import tqdm"], capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr


ENDS_QUIETLY = """\
import atexit
import sys

sys.stdout.write("printed last, without a newline")
atexit.register(print, "the interpreter's teardown ran")
"""


@pytest.mark.parametrize("kind", ["local", "docker"])
def test_the_runner_ends_with_its_input_and_keeps_what_was_printed(root, kind):
    """Once the grading closes the channel the runner flushes what was printed and ends
    at once: the interpreter's teardown (20 ms and more with numpy, more with torch)
    would only hold the grading's close, so exit handlers do not run."""
    (root / "submission" / "hw.py").write_text(ENDS_QUIETLY)
    box = _box(kind, root, "numpy")
    session = RunnerSession(box, LoadSpec(file="hw.py", module="hw", seconds=60))
    try:
        session.ensure_loaded()
        proc = session.proc
        assert proc is not None
    finally:
        session.close()
        box.close()
    output, _ = session.output()
    assert "printed last, without a newline" in output
    assert "teardown ran" not in output
    assert proc.returncode == 0  # it ended by itself, before any kill
