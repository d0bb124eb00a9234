"""What of the host the local sandbox may see: an allow-list, not all of /usr.

/usr holds more than programs: /usr/share/datasets carries Debian's
Fashion-MNIST with its test labels, /usr/lib/postgresql a database's
binaries, /usr/local whatever an administrator put there. A sandbox that binds
all of /usr hands a Fashion-MNIST assignment its grading labels. So the local
sandbox binds, read-only, only what the interpreter and the environment's
packages need to run:

- the programs in /usr/bin (and /bin where it is a folder of its own):
  no data, and what homework and the Docker image's shell expect
  (``sh``, ``sleep``, ``unshare`` ...);
- the interpreter: its binary (and the links that lead to it) and its
  standard library, extension modules included;
- the folders of the shared libraries that the interpreter, its extension
  modules and every ``.so`` of the environment link to (``ldd``), and those
  it maps when it starts (``/proc/self/maps``, for hosts without ``ldd``);
- the loader's cache, /etc/ld.so.cache.

Nothing else of /etc, /var, /home, /root, /opt, /usr/share, /usr/local or the
repository is there; the environment itself is bound at /opt/env by the sandbox.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from grader.sandbox.base import SandboxUnavailable

PROGRAM_DIRS = ("/usr/bin", "/bin")
LOADER_CACHE = "/etc/ld.so.cache"
# Run by the environment's own interpreter on the host (it is ours, built by ensure_env).
PROBE = """
import json, os, sys, sysconfig
maps = set()
with open("/proc/self/maps") as fh:
    for line in fh:
        parts = line.split()
        if len(parts) > 5 and parts[5].startswith("/") and ".so" in parts[5]:
            maps.add(parts[5])
print(json.dumps({
    "exe": os.path.realpath(sys.executable),
    "stdlib": sysconfig.get_path("stdlib"),
    "dynload": sysconfig.get_config_var("DESTSHARED") or "",
    "maps": sorted(maps),
}))
"""


@dataclass(frozen=True)
class HostView:
    """Host paths bound read-only at the same place, and symbolic links made inside."""

    binds: tuple[str, ...]
    links: tuple[tuple[str, str], ...]  # (target, path)


def _inside(path: str, folders: set[str]) -> bool:
    return any(path == f or path.startswith(f.rstrip("/") + "/") for f in folders)


def _shared_objects(folder: str) -> list[str]:
    found = []
    for top, _, files in os.walk(folder):
        found += [os.path.join(top, f) for f in files if ".so" in f and not f.endswith(".py")]
    return found


def _ldd_paths(files: list[str]) -> set[str]:
    """Every library path ``ldd`` resolves for ``files`` (empty where there is no ldd)."""
    ldd = shutil.which("ldd")
    if ldd is None or not files:
        return set()
    paths: set[str] = set()
    for start in range(0, len(files), 200):
        try:
            done = subprocess.run(
                [ldd, *files[start : start + 200]], capture_output=True, timeout=120, check=False
            )
        except (OSError, subprocess.SubprocessError):
            continue
        for line in done.stdout.decode(errors="replace").splitlines():
            if not line.startswith(("\t", " ")):
                continue  # "file:" headers
            words = line.split()
            target = words[2] if len(words) > 2 and words[1] == "=>" else words[0]
            if target.startswith("/"):
                paths.add(target)
    return paths


def _link_chain(path: str) -> list[tuple[str, str]]:
    """The symbolic links from ``path`` to its file: (target as written, link path) each."""
    chain = []
    for _ in range(40):
        if not os.path.islink(path):
            break
        target = os.readlink(path)
        chain.append((target, path))
        path = os.path.normpath(os.path.join(os.path.dirname(path), target))
    return chain


@functools.cache
def host_view(env: Path) -> HostView:
    """The allow-list for the environment at ``env`` (cached per process)."""
    python = env / "bin" / "python3"
    try:
        done = subprocess.run(
            [str(python), "-I", "-c", PROBE], capture_output=True, timeout=120, check=True
        )
        facts = json.loads(done.stdout)
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        raise SandboxUnavailable(f"cannot inspect the environment {env}: {exc}") from None
    env_real = os.path.realpath(env)
    binds: set[str] = {p for p in PROGRAM_DIRS if os.path.isdir(p) and not os.path.islink(p)}
    binds |= {facts["stdlib"], facts["dynload"]} - {""}
    objects = [facts["exe"], *_shared_objects(env_real)]
    if facts["dynload"]:
        objects += _shared_objects(facts["dynload"])
    libraries = _ldd_paths(objects) | set(facts["maps"])
    for lib in libraries:
        for folder in (os.path.dirname(lib), os.path.dirname(os.path.realpath(lib))):
            real = os.path.realpath(folder)
            if not _inside(real, {env_real}):
                binds.add(real)
    if os.path.exists(LOADER_CACHE):
        binds.add(LOADER_CACHE)
    links = []
    for target, link in _link_chain(str(python))[1:]:  # the first lives in the env
        if not _inside(link, binds):
            links.append((target, link))
    if not _inside(facts["exe"], binds):
        binds.add(facts["exe"])
    # A folder inside another bound one comes with it.
    kept = sorted(b for b in binds if os.path.exists(b) and not _inside_other(b, binds))
    return HostView(tuple(kept), tuple(links))


def _inside_other(path: str, folders: set[str]) -> bool:
    return _inside(path, {f for f in folders if f != path})
