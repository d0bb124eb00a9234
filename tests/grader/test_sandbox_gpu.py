"""A GPU grading in the local sandbox: the host's NVIDIA driver goes in, or the grading is
refused as a platform error (grader/sandbox/nvidia.py). The driver is faked with files in a
temporary folder: these machines have no GPU (the real one is checked on a GPU host, see
README "GPU or CPU")."""

from __future__ import annotations

import resource
from pathlib import Path

import pytest

from grader.assignment import load_assignment
from grader.engine import grade
from grader.messages import ReportStatus
from grader.sandbox import SandboxSpec, SandboxUnavailable, nvidia
from grader.sandbox.local import LocalSandbox, bwrap_path
from tests.conftest import require

ROOT = Path(__file__).resolve().parents[2]


def _fake_driver(tmp_path: Path, monkeypatch) -> tuple[Path, Path]:
    dev = tmp_path / "dev"
    dev.mkdir()
    for name in ("nvidiactl", "nvidia0", "nvidia-uvm"):
        (dev / name).write_text("")
    (dev / "nvidia-caps").mkdir()  # a folder: never bound as a device
    lib = tmp_path / "driver"
    lib.mkdir()
    (lib / "libcuda.so.1").write_text("")
    monkeypatch.setattr(nvidia, "DEVICE_GLOB", str(dev / "nvidia*"))
    monkeypatch.setattr(nvidia, "KNOWN_FOLDERS", ())
    monkeypatch.setattr(nvidia, "_from_loader_cache", lambda name: [])
    return dev, lib


def test_the_driver_is_found_from_its_device_nodes_and_ld_library_path(tmp_path, monkeypatch):
    dev, lib = _fake_driver(tmp_path, monkeypatch)
    driver = nvidia.find_driver({"LD_LIBRARY_PATH": f"/nowhere:{lib}"})
    assert driver.devices == tuple(str(dev / n) for n in ("nvidia-uvm", "nvidia0", "nvidiactl"))
    assert driver.library_folders == (str(lib),)


def test_no_gpu_or_no_libcuda_is_a_clear_platform_refusal(tmp_path, monkeypatch):
    dev, lib = _fake_driver(tmp_path, monkeypatch)
    with pytest.raises(SandboxUnavailable, match=r"libcuda\.so\.1"):
        nvidia.find_driver({})
    (dev / "nvidiactl").unlink()
    with pytest.raises(SandboxUnavailable, match="no NVIDIA GPU"):
        nvidia.find_driver({"LD_LIBRARY_PATH": str(lib)})


def test_a_gpu_sandbox_binds_the_driver_and_lifts_the_address_space_limit(tmp_path, monkeypatch):
    require(bwrap_path() is not None, "bubblewrap", "apt-get install bubblewrap")
    dev, lib = _fake_driver(tmp_path, monkeypatch)
    monkeypatch.setenv("LD_LIBRARY_PATH", str(lib))
    root = tmp_path / "root"
    root.mkdir()
    cpu = LocalSandbox(SandboxSpec(root=root, environment="torch"), use_cgroups=False)
    gpu = LocalSandbox(SandboxSpec(root=root, environment="torch", gpu=True), use_cgroups=False)
    cpu_argv, gpu_argv = cpu._bwrap_argv(["python3"]), gpu._bwrap_argv(["python3"])
    for node in ("nvidiactl", "nvidia0", "nvidia-uvm"):
        path = str(dev / node)
        assert path not in cpu_argv
        i = gpu_argv.index(path)
        assert gpu_argv[i - 1 : i + 2] == ["--dev-bind", path, path]
    assert str(dev / "nvidia-caps") not in gpu_argv
    i = gpu_argv.index("--ro-bind", gpu_argv.index(str(dev / "nvidiactl")))
    assert gpu_argv[i : i + 3] == ["--ro-bind", str(lib), str(lib)]
    # The devices are bound after bwrap's own /dev and before it is made read-only.
    dev_at = gpu_argv.index("--dev")
    assert dev_at < gpu_argv.index("--dev-bind") < gpu_argv.index("--remount-ro")
    assert gpu._env()["LD_LIBRARY_PATH"] == str(lib)
    assert "LD_LIBRARY_PATH" not in cpu._env()
    assert gpu._address_space_bytes() == resource.RLIM_INFINITY
    assert cpu._address_space_bytes() == cpu.spec.limits.memory_mb * 2**20


def test_grading_for_a_gpu_worker_on_a_host_without_one_is_a_platform_error(monkeypatch):
    """Never the student's crash: the trusted side refuses before anything runs."""
    require(bwrap_path() is not None, "bubblewrap", "apt-get install bubblewrap")
    monkeypatch.setattr(nvidia, "DEVICE_GLOB", "/nonexistent/nvidia*")
    folder = ROOT / "assignments" / "mnist-cnn"
    report = grade(load_assignment(folder), folder / "solution", sandbox="local", gpu=True)
    assert report.status == ReportStatus.PLATFORM_ERROR
    assert "no NVIDIA GPU" in report.message
    assert report.score == 0.0
