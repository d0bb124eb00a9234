"""The torch image for GPU workers: CUDA wheels only when asked, cached apart from +cpu ones.

pip is replaced by a stand-in that "resolves" a CUDA build of torch (a torch
wheel and nvidia-* wheels), as PyPI's default index does on Linux: a CPU
worker's build refuses it (gigabytes of CUDA for nothing); with
DLGRADE_TORCH_CUDA=1 (a GPU host) it is taken, and cached under wheels/torch-cuda
so that the +cpu cache of the same data dir never feeds a GPU image, nor the
reverse. A real CUDA build needs a GPU host (README: "GPU workers").
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from grader.sandbox import images
from grader.sandbox.base import SandboxUnavailable

CUDA_WHEELS = (
    "torch-2.13.0+cu126-cp311-cp311-manylinux_2_28_x86_64.whl",
    "nvidia_cublas_cu12-12.6.4.1-py3-none-manylinux2014_x86_64.whl",
)


@pytest.fixture
def cuda_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """pip resolving a CUDA build; records whether each call was offline."""
    monkeypatch.setenv("DLGRADE_DATA_DIR", str(tmp_path / "data"))
    calls: list[bool] = []

    def fake(env, dest, cache, *, torch_index=None, offline):
        calls.append(offline)
        if offline:
            return subprocess.CompletedProcess([], 1, b"", b"not in the cache")
        for name in CUDA_WHEELS:
            (dest / name).write_bytes(b"wheel")
        return subprocess.CompletedProcess([], 0, b"", b"")

    monkeypatch.setattr(images, "_pip_download", fake)
    monkeypatch.setattr(images, "_torch_index", lambda env, progress: "https://example/cu126")
    return calls


def test_a_cpu_worker_refuses_a_cuda_build(
    cuda_index: list[bool], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DLGRADE_TORCH_CUDA", raising=False)
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(SandboxUnavailable, match="CUDA build of torch"):
        images.download_wheels("torch", dest, progress=lambda s: None)


def test_a_gpu_host_takes_it_and_caches_it_apart(
    cuda_index: list[bool], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DLGRADE_TORCH_CUDA", "1")
    dest = tmp_path / "dest"
    dest.mkdir()
    wheels = images.download_wheels("torch", dest, progress=lambda s: None)
    assert sorted(w.name for w in wheels) == sorted(CUDA_WHEELS)
    wheel_cache = tmp_path / "data" / "wheels"
    assert sorted(p.name for p in (wheel_cache / "torch-cuda").iterdir()) == sorted(CUDA_WHEELS)
    assert not (wheel_cache / "torch").exists()
    assert cuda_index == [True, False]  # the (empty) CUDA cache first, then the index


def test_the_numpy_environment_never_asks_for_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLGRADE_TORCH_CUDA", "1")
    assert images.torch_cuda_wanted("torch") and not images.torch_cuda_wanted("numpy")
