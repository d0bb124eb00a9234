"""PyTorch homework that hard-codes CUDA is graded on a worker without a GPU.

Each submission below trains a linear model while using one of the course's
CUDA idioms (``device = "cuda"`` with ``.to(device)``, ``.cuda()``,
``torch.device("cuda")``, ``device=`` in factory functions,
``torch.cuda.synchronize()``, ``torch.cuda.manual_seed``). On this machine's
CPU-only torch each of them raises ("Torch not compiled with CUDA enabled")
unless the runner maps CUDA onto the CPU. Graded in the local sandbox's torch
environment: as a CPU worker grades (the default), every one trains and the
report says that CUDA was mapped; as a GPU worker grades (``gpu=True``),
nothing is mapped (the trusted side decided there is a GPU), so here, where
there is none, the same file fails, and the report claims no mapping.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.assignment import load_assignment
from grader.engine import grade
from grader.messages import CheckStatus, ReportStatus
from grader.report import render_text
from grader.sandbox.local import bwrap_path
from tests.conftest import require

FOLDER = Path(__file__).resolve().parent / "cuda" / "assignment"
NOTE = "CUDA calls were mapped to the CPU: this worker has no GPU"

TEMPLATE = """\
import torch

torch.manual_seed(0)
{setup}
X = torch.linspace(-1, 1, 128).reshape(-1, 1)
Y = 3 * X + 0.5
{data}
model = torch.nn.Linear(1, 1)
{model}
opt = torch.optim.SGD(model.parameters(), lr=0.5)
history = []
for _ in range(100):
    opt.zero_grad()
    loss = ((model(X) - Y) ** 2).mean()
    loss.backward()
    opt.step()
    history.append(loss.item())
{after}


def losses():
    return [history[0], history[-1]]
"""

IDIOMS = {
    "device_string": dict(
        setup='device = "cuda"',
        data="X, Y = X.to(device), Y.to(device)",
        model="model = model.to(device)",
    ),
    "cuda_method": dict(
        data="X, Y = X.cuda(), Y.cuda(0)",
        model="model.cuda()",
    ),
    "torch_device": dict(
        setup='device = torch.device("cuda:0")',
        data="X = X.to(device=device, non_blocking=True)\nY = Y.to(device, torch.float32)",
        model="model.to(device)",
    ),
    "factory_device": dict(
        data=(
            'noise = torch.randn(128, 1, device="cuda") * 0.01\n'
            'X = torch.tensor(X.numpy(), device="cuda")\n'
            'Y = Y.to("cuda") + noise + torch.zeros(128, 1, device=torch.device("cuda"))'
        ),
        model='model.to("cuda")',
    ),
    "synchronize": dict(
        setup="start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(True)",
        model="model.cuda()\nX, Y = X.cuda(), Y.cuda()\nstart.record()",
        after=(
            "end.record()\ntorch.cuda.synchronize()\nprint('ms', start.elapsed_time(end))\n"
            "torch.cuda.empty_cache()"
        ),
    ),
    "manual_seed": dict(
        setup="torch.cuda.manual_seed(0)\ntorch.cuda.manual_seed_all(0)",
        model='model.to("cuda")\nX, Y = X.to("cuda"), Y.to("cuda")',
    ),
}


def _write(tmp_path: Path, idiom: str) -> Path:
    parts = {"setup": "", "data": "", "model": "", "after": "", **IDIOMS[idiom]}
    path = tmp_path / f"{idiom}.py"
    path.write_text(TEMPLATE.format(**parts))
    return path


@pytest.fixture(scope="module")
def assignment():
    require(bwrap_path() is not None, "bubblewrap", "apt-get install bubblewrap")
    return load_assignment(FOLDER)


@pytest.mark.parametrize("idiom", sorted(IDIOMS))
def test_a_cpu_worker_maps_each_cuda_idiom_and_the_model_trains(
    assignment, tmp_path: Path, idiom: str
) -> None:
    report = grade(assignment, _write(tmp_path, idiom), sandbox="local")
    assert report.status == ReportStatus.GRADED
    (result,) = report.checks
    assert (result.status, result.score) == (CheckStatus.PASSED, 1.0), result.message
    assert report.environment["cuda"] == NOTE
    assert report.environment["gpu"] is False
    assert f"note: {NOTE}" in render_text(report)


def test_a_gpu_worker_maps_nothing(assignment, tmp_path: Path, driver_without_a_gpu) -> None:
    """gpu=True: the trusted side says a GPU is there, so the runner leaves torch alone.

    There is no GPU here (the driver is a stand-in with no device), so the homework's
    own .to("cuda") fails, as it would on any machine without one: proof that the
    mapping above was the grader's doing.
    """
    report = grade(assignment, _write(tmp_path, "device_string"), sandbox="local", gpu=True)
    (result,) = report.checks
    assert result.status == CheckStatus.ERROR
    assert "CUDA" in result.message
    assert "cuda" not in report.environment
    assert report.environment["gpu"] is True
    assert "note:" not in render_text(report)


def test_code_that_asks_for_a_gpu_hears_the_truth(assignment, tmp_path: Path) -> None:
    """torch.cuda.is_available() stays False: a homework that picks its device by asking
    runs on the CPU as written, and nothing about it needs mapping."""
    path = tmp_path / "asks.py"
    source = TEMPLATE.format(
        setup='device = "cuda" if torch.cuda.is_available() else "cpu"\n'
        "assert device == 'cpu' and torch.cuda.device_count() == 0",
        data="X, Y = X.to(device), Y.to(device)",
        model="model.to(device)",
        after="",
    )
    path.write_text(source)
    report = grade(assignment, path, sandbox="local")
    (result,) = report.checks
    assert result.status == CheckStatus.PASSED, result.message


def test_gpu_and_cpu_workers_have_time_limits_of_their_own(assignment) -> None:
    # From the manifest: [limits] total_seconds = 150, gpu_total_seconds = 60,
    # load_seconds = 120, call_seconds = 30 (no gpu_ variants of those two).
    assert assignment.queue == "gpu" and assignment.cpu_fallback is True
    assert assignment.time_limits(gpu=False) == (150.0, 120.0, 30.0)
    assert assignment.time_limits(gpu=True) == (60.0, 120.0, 30.0)
