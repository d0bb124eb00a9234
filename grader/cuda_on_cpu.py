"""Run PyTorch homework that hard-codes CUDA on a worker without a GPU.

Copied into the sandbox next to runner.py and imported by it; like the runner
it imports nothing of dlgrade and is as untrusted as the student's code (it
can only make that code run, never change a verdict, which the trusted side
computes from plain data).

The course's scripts say ``device = "cuda"``, ``.cuda()``, ``.to("cuda")``,
``torch.device("cuda")``, ``torch.cuda.synchronize()`` and
``torch.cuda.manual_seed(...)``. On a CPU-only build each of those raises
"Torch not compiled with CUDA enabled". When the trusted side grades without a
GPU, the runner calls ``install_when_imported()``: the first ``import torch``
then gets these patches, and only if ``torch.cuda.is_available()`` is false
(on a GPU nothing is ever mapped):

- device arguments naming CUDA become "cpu": ``Tensor.to/.cuda/.new_*``, the
  factory functions' ``device=`` (zeros, randn, tensor, arange, ...),
  ``torch.set_default_device``, ``torch.load(map_location=...)``;
  ``nn.Module.to/.cuda`` go through ``Tensor.to/.cuda``;
- ``torch.cuda``'s calls that need a device become CPU equivalents or no-ops:
  synchronize, manual_seed(_all), seed(_all), empty_cache, the memory
  counters, current_device/set_device/get_device_name, ``Event`` timing;
- ``Tensor.pin_memory()`` returns the tensor (nothing to pin to).

Plain function wrappers rather than a TorchFunctionMode: a mode sits in front
of every tensor operation (126 of them per batch of a small MLP's training step,
about 1.4 us each), while these cost something only where a device is named.
``torch.cuda.is_available()`` keeps saying False: code that asks gets the truth.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from typing import Any

# Tensor factories that take device=; names missing from this torch are skipped.
FACTORIES = (
    "tensor", "as_tensor", "asarray", "zeros", "ones", "empty", "full", "rand", "randn",
    "randint", "randperm", "arange", "range", "linspace", "logspace", "eye", "zeros_like",
    "ones_like", "empty_like", "full_like", "rand_like", "randn_like", "randint_like",
    "empty_strided", "scalar_tensor", "tril_indices", "triu_indices", "normal", "bartlett_window",
    "hann_window", "hamming_window", "blackman_window", "kaiser_window", "sparse_coo_tensor",
)  # fmt: skip
TENSOR_FACTORIES = ("new_tensor", "new_zeros", "new_ones", "new_empty", "new_full")
# torch.cuda calls that only make sense with a device: harmless no-ops on the CPU.
NO_OPS = (
    "synchronize", "manual_seed", "manual_seed_all", "seed", "seed_all", "empty_cache",
    "reset_peak_memory_stats", "reset_max_memory_allocated", "reset_accumulated_memory_stats",
    "set_device", "ipc_collect", "init",
)  # fmt: skip
ZEROS = (
    "memory_allocated", "max_memory_allocated", "memory_reserved", "max_memory_reserved",
    "current_device",
)  # fmt: skip

state = {"installed": False, "mapped": 0}


def is_cuda(device: Any) -> bool:
    """Whether a device argument names CUDA: "cuda", "cuda:0", torch.device("cuda"), or 0."""
    if isinstance(device, str):
        return device.strip().lower().startswith("cuda")
    if isinstance(device, int) and not isinstance(device, bool):
        return True  # .to(0) and .cuda(0) mean CUDA device 0
    return getattr(device, "type", None) == "cuda"


def to_cpu(device: Any) -> Any:
    if is_cuda(device):
        state["mapped"] += 1
        return "cpu"
    return device


def _map_kwarg(fn: Any, key: str = "device") -> Any:
    def mapped(*args: Any, **kwargs: Any) -> Any:
        if key in kwargs:
            kwargs[key] = to_cpu(kwargs[key])
        return fn(*args, **kwargs)

    mapped.__wrapped__ = fn  # type: ignore[attr-defined]
    mapped.__name__ = getattr(fn, "__name__", "mapped")
    mapped.__doc__ = getattr(fn, "__doc__", None)
    return mapped


def _patch_tensor(torch: Any) -> None:
    tensor = torch.Tensor
    original_to = tensor.to

    def to(self: Any, *args: Any, **kwargs: Any) -> Any:
        if args and (isinstance(args[0], str | int) or type(args[0]).__name__ == "device"):
            args = (to_cpu(args[0]), *args[1:])
        if "device" in kwargs:
            kwargs["device"] = to_cpu(kwargs["device"])
        return original_to(self, *args, **kwargs)

    def cuda(self: Any, device: Any = None, non_blocking: bool = False, **kwargs: Any) -> Any:
        state["mapped"] += 1
        memory_format = kwargs.get("memory_format")
        if memory_format is not None:
            return original_to(self, "cpu", non_blocking=non_blocking, memory_format=memory_format)
        return original_to(self, "cpu", non_blocking=non_blocking)

    def pin_memory(self: Any, *args: Any, **kwargs: Any) -> Any:
        return self

    tensor.to = to
    tensor.cuda = cuda
    tensor.pin_memory = pin_memory
    for name in TENSOR_FACTORIES:
        if hasattr(tensor, name):
            setattr(tensor, name, _map_kwarg(getattr(tensor, name)))


class CpuEvent:
    """torch.cuda.Event for timing on the CPU: record(), elapsed_time() in ms."""

    def __init__(self, enable_timing: bool = False, *args: Any, **kwargs: Any) -> None:
        self.t = time.perf_counter()

    def record(self, stream: Any = None) -> None:
        self.t = time.perf_counter()

    def synchronize(self) -> None:
        pass

    def wait(self, stream: Any = None) -> None:
        pass

    def query(self) -> bool:
        return True

    def elapsed_time(self, end: CpuEvent) -> float:
        return (end.t - self.t) * 1000.0


class _NoDevice:
    """torch.cuda.device(...) as a context manager that selects nothing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _returning(value: Any, name: str) -> Any:
    def stand_in(*args: Any, **kwargs: Any) -> Any:
        return value

    stand_in.__name__ = name
    return stand_in


def _patch_cuda_module(torch: Any) -> None:
    cuda = torch.cuda
    # One function object per name: torch._dynamo keys its rules on function identity,
    # and one shared no-op under two names trips its "duplicate torch object" assertion.
    for name in NO_OPS:
        setattr(cuda, name, _returning(None, name))
    for name in ZEROS:
        setattr(cuda, name, _returning(0, name))
    cuda.get_device_name = lambda *a, **k: "cpu (CUDA mapped to the CPU: no GPU on this worker)"
    cuda.Event = CpuEvent
    cuda.device = _NoDevice


def install(torch: Any) -> bool:
    """Map CUDA onto the CPU in this ``torch``; False (nothing touched) when a GPU is present."""
    if state["installed"]:
        return True
    try:
        if torch.cuda.is_available():
            return False
    except Exception:
        pass  # a broken CUDA stack is no GPU
    for name in FACTORIES:
        if hasattr(torch, name):
            setattr(torch, name, _map_kwarg(getattr(torch, name)))
    if hasattr(torch, "set_default_device"):
        original_default = torch.set_default_device
        torch.set_default_device = lambda device: original_default(to_cpu(device))
    torch.load = _map_kwarg(torch.load, "map_location")
    _patch_tensor(torch)
    _patch_cuda_module(torch)
    state["installed"] = True
    return True


class _AfterTorchImport:
    """Finds nothing itself: hands ``torch``'s spec back with a loader that patches after it.

    A finder on ``sys.meta_path`` needs only ``find_spec``; not deriving from
    ``importlib.abc.MetaPathFinder`` spares every grading, PyTorch or not, the
    import of ``importlib.abc`` (about 10 ms of the sandbox's start).
    """

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name != "torch":
            return None
        sys.meta_path.remove(self)  # once; and find_spec below must not find us again
        spec = importlib.util.find_spec("torch")
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        load = loader.exec_module

        def exec_module(module: Any) -> None:
            load(module)
            install(module)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def install_when_imported() -> None:
    """Patch torch as soon as the student's code imports it (now, if it already is)."""
    if "torch" in sys.modules:
        install(sys.modules["torch"])
    elif not any(isinstance(f, _AfterTorchImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _AfterTorchImport())
