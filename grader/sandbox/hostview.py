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

Computing the list costs about a second (the probe, then ``ldd`` over every
shared object of the environment: hundreds of runs of the loader), and its
answer is the same for every grading of an environment. So it is computed once
and written beside the environment (``.<env>.hostview-<version>.json``, outside
the folder the sandbox sees; one file per version of this module, so that two
versions on one host do not overwrite each other's), keyed by the
environment's real path, with a stamp of what it was computed from: the
environment's ready-marker and folder, and the inode, size and modification
time of every host file and folder it names or found (each library ``ldd``
resolved, the interpreter, the loader's cache). Rebuilding the environment,
installing or upgrading a host library (the package manager replaces files and
re-runs ``ldconfig``, changing the folder and the cache) or changing this
module makes the stamp differ, and the list is computed again. A grading only
reads the file and stats those paths: a millisecond or two.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from grader.sandbox.base import SandboxUnavailable

log = logging.getLogger(__name__)

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


def host_view(env: Path) -> HostView:
    """The allow-list for the environment at ``env``: from its cache when the stamp still holds.

    Computed (and the cache written) only when there is no cache, it cannot be
    read, or anything it was computed from has changed since.
    """
    # One environment reached by several paths (a data folder behind a symbolic link,
    # as each checkout of the repository has) is one cache: keyed by its real path.
    env = Path(os.path.realpath(env))
    cached = _read_cache(env)
    if cached is not None:
        return cached
    view, watched = compute_host_view(env)
    _write_cache(env, view, watched)
    return view


def cache_path(env: Path) -> Path:
    """Beside the environment, not in it: the sandbox sees the environment at /opt/env.

    One file per version of this module: workers of two versions on one host
    (a rolling upgrade) would otherwise overwrite each other's list at every grading.
    """
    return env.parent / f".{env.name}.hostview-{_CODE}.json"


# What the cached list was computed by: another version of this module may compute another list.
_CODE = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
_MARKER = ".dlgrade-ready"  # written by local.ensure_env once the environment is complete


def _stat_key(path: str) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_ino, st.st_size, st.st_mtime_ns]


def _stamp(env: Path, watched: list[str]) -> dict[str, object]:
    try:
        marker = (env / _MARKER).read_text()
    except OSError:
        marker = None
    return {
        "code": _CODE,
        "marker": marker,
        "paths": {path: _stat_key(path) for path in [str(env), *watched]},
    }


def _read_cache(env: Path) -> HostView | None:
    try:
        saved = json.loads(cache_path(env).read_text())
        watched = [str(p) for p in saved["watched"]]
        if saved["stamp"] != _stamp(env, watched):
            return None
        binds = tuple(str(b) for b in saved["binds"])
        links = tuple((str(t), str(p)) for t, p in saved["links"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return HostView(binds, links)


def _write_cache(env: Path, view: HostView, watched: list[str]) -> None:
    saved = {
        "stamp": _stamp(env, watched),
        "watched": watched,
        "binds": list(view.binds),
        "links": [list(link) for link in view.links],
    }
    try:
        # Written whole under another name, then renamed: a concurrent grading reads
        # the old file or the new one, never half of one.
        fd, tmp = tempfile.mkstemp(prefix=".hostview-", dir=env.parent)
        with os.fdopen(fd, "w") as out:
            json.dump(saved, out)
        os.replace(tmp, cache_path(env))
    except OSError as exc:
        # Not fatal: the list is right, only the next grading computes it again.
        log.warning("could not cache the host view of %s: %s", env, exc)


def compute_host_view(env: Path) -> tuple[HostView, list[str]]:
    """The allow-list for ``env``, and the host paths it was computed from (the stamp's)."""
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
    # Every host path the answer rests on: a library found, the folders bound (an
    # entry added or replaced there changes the folder), the interpreter, and the
    # environment's packages (what is installed there changes its folder).
    site = sorted(str(p) for p in Path(env_real).glob("lib/python*/site-packages"))
    watched = sorted({*libraries, *binds, facts["exe"], str(python), *site})
    return HostView(tuple(kept), tuple(links)), watched


def _inside_other(path: str, folders: set[str]) -> bool:
    return _inside(path, {f for f in folders if f != path})
