"""What a GPU grading in the local sandbox needs of the host: the NVIDIA driver.

A PyTorch wheel built for CUDA carries the CUDA runtime, but not the driver: that
is the host's, in two parts. Its device nodes (``/dev/nvidiactl``,
``/dev/nvidia0``..., ``/dev/nvidia-uvm``) are what CUDA opens; its user-space
library (``libcuda.so.1``, beside ``libnvidia-ml.so.1``) is what the runtime
loads, from the loader's cache or ``LD_LIBRARY_PATH`` (driver containers often
mount it under ``/usr/local/nvidia/lib64``). A GPU grading binds the nodes and
the library folders into the sandbox and names the folders in its
``LD_LIBRARY_PATH`` (the sandbox's environment is scrubbed, so the host's
variable never reaches it). The Docker sandbox gets the same from
``--gpus all`` and the NVIDIA Container Toolkit.

Where no GPU is found the grading is refused on the trusted side, as a platform
error: a student's ``.cuda()`` must never fail for want of a device the worker
said it had.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from dataclasses import dataclass

from grader.sandbox.base import SandboxUnavailable

DEVICE_GLOB = "/dev/nvidia*"
DRIVER_LIBRARIES = ("libcuda.so.1", "libnvidia-ml.so.1")
# Where driver containers and distributions put the driver's libraries when the
# loader's cache does not name them.
KNOWN_FOLDERS = ("/usr/local/nvidia/lib64", "/usr/local/nvidia/lib", "/usr/lib/x86_64-linux-gnu")


@dataclass(frozen=True)
class NvidiaDriver:
    devices: tuple[str, ...]  # device nodes to bind (character devices only)
    library_folders: tuple[str, ...]  # folders holding the driver's user-space libraries


def _from_loader_cache(name: str) -> list[str]:
    ldconfig = shutil.which("ldconfig") or shutil.which("ldconfig", path="/sbin:/usr/sbin")
    if ldconfig is None:
        return []
    try:
        done = subprocess.run([ldconfig, "-p"], capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return []
    found = []
    for line in done.stdout.decode(errors="replace").splitlines():
        words = line.split()
        if words and words[0] == name and "=>" in words:
            found.append(words[-1])
    return found


def _library_folders(environ: dict[str, str]) -> list[str]:
    search = [p for p in environ.get("LD_LIBRARY_PATH", "").split(":") if p]
    folders: list[str] = []
    for name in DRIVER_LIBRARIES:
        candidates = _from_loader_cache(name)
        candidates += [os.path.join(folder, name) for folder in [*search, *KNOWN_FOLDERS]]
        for path in candidates:
            if os.path.exists(path):
                for folder in (os.path.dirname(path), os.path.dirname(os.path.realpath(path))):
                    if folder not in folders:
                        folders.append(folder)
                break
    return folders


def find_driver(environ: dict[str, str] | None = None) -> NvidiaDriver:
    """The host's NVIDIA device nodes and driver library folders; SandboxUnavailable
    when there is no GPU to give a grading."""
    environ = dict(os.environ if environ is None else environ)
    devices = tuple(
        path
        for path in sorted(glob.glob(DEVICE_GLOB))
        if os.path.exists(path) and not os.path.isdir(path)
    )
    if not any(os.path.basename(d) == "nvidiactl" for d in devices):
        raise SandboxUnavailable(
            "this grading was sent to a GPU worker, but this host has no NVIDIA GPU "
            "(no /dev/nvidiactl): grade it on a CPU worker, or install the driver"
        )
    folders = _library_folders(environ)
    if not folders:
        raise SandboxUnavailable(
            "this host has NVIDIA devices but the driver's libcuda.so.1 was found neither "
            "in the loader's cache nor in LD_LIBRARY_PATH"
        )
    return NvidiaDriver(devices, tuple(folders))
