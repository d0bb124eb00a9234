"""Docker images for the sandbox: one per assignment environment, buildable offline.

Each environment is a virtual environment at /opt/venv on a Debian bookworm base
with Python 3.11, its interpreter first on PATH as ``python3``:

    numpy   numpy only; torch is NOT importable (that is how "implement it yourself" is enforced)
    torch   numpy and torch==2.13.0 (CPU build)

both with the course's harmless helpers (tqdm, matplotlib): the lists are in
environments.py, shared with the local sandbox.

numpy is pinned to the version the trusted side runs, so a student's arithmetic
and the reference's agree to the last bit wherever they do the same thing.

How an image is made (``python -m grader.sandbox.images build``):

1. The base, ``dlgrade-base:bookworm``, built once: ``docker pull
   python:3.11-slim-bookworm`` when Docker Hub answers, else a local Debian
   bootstrap (``debootstrap --variant=minbase`` + ``docker import``, needs root).
2. Wheels downloaded on the host with pip into ``<data dir>/wheels/<env>`` (a
   cache: later builds resolve from it without any network).
3. ``docker build --network none`` of ``images/Dockerfile`` with a context of
   that file, requirements.txt and the wheels: nothing of the repository
   (reference/, grader/, assignments) enters an image.

Images are tagged ``dlgrade-sandbox-<env>:<hash>`` where the hash covers the
Dockerfile, the requirements, the wheel file names and the base image, so an
unchanged environment is never rebuilt; ``:current`` names the latest build.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from grader.config import data_dir
from grader.sandbox.base import SandboxUnavailable
from grader.sandbox.environments import ENVIRONMENTS, TORCH_VERSION

IMAGES_DIR = Path(__file__).resolve().parent / "images"
DOCKERFILE = IMAGES_DIR / "Dockerfile"
BUILD_COMMAND = "scripts/start_docker.sh && .venv/bin/python -m grader.sandbox.images build"

BASE_IMAGE = "dlgrade-base:bookworm"
UPSTREAM_BASE = "python:3.11-slim-bookworm"
DEBIAN_SUITE = "bookworm"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
# bookworm's glibc: wheels tagged manylinux_2_N with N above this would not load.
BASE_GLIBC_MINOR = 36
PYTHON_VERSION = "3.11"
SANDBOX_UID = 10001
SANDBOX_USER = f"{SANDBOX_UID}:{SANDBOX_UID}"

# PyPI's Linux torch wheels are CUDA builds (gigabytes of nvidia-* wheels); this
# index holds the +cpu ones. Set DLGRADE_TORCH_INDEX="" to rely on pip's own
# configuration alone (a mirror, a find-links folder).
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
# GPU worker hosts only: DLGRADE_TORCH_CUDA=1 with DLGRADE_TORCH_INDEX pointing at a CUDA
# index (e.g. https://download.pytorch.org/whl/cu126) builds the torch image from CUDA
# wheels, cached apart from the +cpu ones (README: "GPU workers").
TORCH_CUDA_VAR = "DLGRADE_TORCH_CUDA"


def torch_cuda_wanted(env: str) -> bool:
    return os.environ.get(TORCH_CUDA_VAR) == "1" and any(
        r.startswith("torch") for r in ENVIRONMENTS[env]
    )


LABEL_ENV = "dlgrade.image.env"
LABEL_HASH = "dlgrade.image.hash"
LABEL_RECIPE = "dlgrade.image.recipe"
LABEL_STAGE = "dlgrade.image.stage"

Progress = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- the docker command line --------------------------------------------------------------


def cli_env() -> dict[str, str]:
    """The environment the ``docker`` client runs with: only what it needs to find the engine.

    Never the service's own variables: nothing of them has any business near a sandbox.
    """
    keep = ("PATH", "DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_CONFIG", "DOCKER_TLS_VERIFY",
            "DOCKER_CERT_PATH", "DOCKER_API_VERSION", "DOCKER_BUILDKIT")  # fmt: skip
    env = {key: os.environ[key] for key in keep if key in os.environ}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin")
    env["HOME"] = os.environ.get("HOME", "/root")
    return env


def docker_cli(
    args: Sequence[str],
    *,
    timeout: float,
    stdin: int | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run ``docker ARGS`` and return its outcome (never raises for a non-zero exit).

    Raises SandboxUnavailable when there is no docker client or it does not
    finish within ``timeout`` seconds (an engine that hangs is as good as none).
    """
    try:
        return subprocess.run(
            ["docker", *args],
            stdin=stdin if stdin is not None else subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            env=env or cli_env(),
            check=False,
        )
    except FileNotFoundError as exc:
        raise SandboxUnavailable(
            f"no docker client on PATH; install one with: {BUILD_COMMAND}"
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise SandboxUnavailable(
            f"`docker {' '.join(args[:2])}` did not answer within {timeout:g}s"
        ) from exc


def _tail(data: bytes, limit: int = 3000) -> str:
    return data.decode(errors="replace")[-limit:].strip()


def _checked(args: Sequence[str], *, timeout: float, what: str, **kw) -> bytes:
    done = docker_cli(args, timeout=timeout, **kw)
    if done.returncode != 0:
        raise SandboxUnavailable(f"{what} failed: {_tail(done.stderr or done.stdout)}")
    return done.stdout


def image_labels(ref: str) -> dict[str, str] | None:
    """The labels of image ``ref``, or None when the engine holds no such image."""
    done = docker_cli(["image", "inspect", "--format", "{{json .Config.Labels}}", ref], timeout=30)
    if done.returncode != 0:
        return None
    return json.loads(done.stdout or b"null") or {}


def image_id(ref: str) -> str | None:
    done = docker_cli(["image", "inspect", "--format", "{{.Id}}", ref], timeout=30)
    return done.stdout.decode().strip() if done.returncode == 0 else None


def image_size_mb(ref: str) -> float:
    done = docker_cli(["image", "inspect", "--format", "{{.Size}}", ref], timeout=30)
    return int(done.stdout.decode().strip() or 0) / 1e6 if done.returncode == 0 else 0.0


# -- what an environment holds -----------------------------------------------------------


def image_repository(env: str) -> str:
    return f"dlgrade-sandbox-{env}"


def requirements(env: str) -> list[str]:
    """The pip requirements of ``env``; numpy pinned to the trusted side's version."""
    if env not in ENVIRONMENTS:
        known = ", ".join(sorted(ENVIRONMENTS))
        raise SandboxUnavailable(f"unknown sandbox environment '{env}' (known: {known})")
    pinned = []
    for requirement in ENVIRONMENTS[env]:
        if requirement == "numpy":
            # The trusted side's version, which it grades with.
            version = trusted_numpy_version()
            requirement = requirement if version is None else f"numpy=={version}"
        pinned.append(requirement)
    return pinned


def trusted_numpy_version() -> str | None:
    """The version of the numpy this process imports (None where there is none).

    Read from the module where it is imported already, else from the name of the one
    ``numpy-<version>.dist-info`` beside the package, else by importing it. Not by
    importlib.metadata, which scans every installed distribution (a fifth of a second
    of each grading's start on a loaded host); and not by importing numpy where it can
    be helped: the command line starts its sandbox before numpy has loaded.
    """
    if "numpy" in sys.modules:
        return sys.modules["numpy"].__version__
    found = importlib.util.find_spec("numpy")
    if found is None or found.origin is None:
        return None
    beside = list(Path(found.origin).parents[1].glob("numpy-*.dist-info"))
    if len(beside) == 1:
        return beside[0].name[len("numpy-") : -len(".dist-info")]
    import numpy  # no dist-info, or several: the module says which it is

    return numpy.__version__


def recipe_hash(env: str) -> str:
    """What an image of ``env`` must have been built from: the Dockerfile and the requirements.

    ``image_for`` refuses an image whose recipe differs from the repository's, so a
    hardened Dockerfile or a new numpy on the trusted side cannot be silently skipped.
    """
    digest = hashlib.sha256(DOCKERFILE.read_bytes())
    digest.update("\n".join(requirements(env)).encode())
    return digest.hexdigest()[:16]


def image_for(env: str) -> str:
    """The immutable tag of the current image of ``env`` (``dlgrade-sandbox-<env>:<hash>``).

    Raises SandboxUnavailable, naming the build command, when the engine holds no
    image of ``env`` or only one built from another recipe.
    """
    recipe = recipe_hash(env)
    labels = image_labels(f"{image_repository(env)}:current")
    if labels is None:
        raise SandboxUnavailable(
            f"no sandbox image for environment '{env}'; build it with: {BUILD_COMMAND}"
        )
    if labels.get(LABEL_RECIPE) != recipe:
        raise SandboxUnavailable(
            f"the sandbox image for '{env}' was built from another Dockerfile or other "
            f"requirements than this checkout's; rebuild it with: {BUILD_COMMAND}"
        )
    return f"{image_repository(env)}:{labels[LABEL_HASH]}"


# -- building ------------------------------------------------------------------------------


@contextlib.contextmanager
def _build_lock(build_dir: Path) -> Iterator[None]:
    """One build at a time per data directory (two test sessions may both ask for one)."""
    build_dir.mkdir(parents=True, exist_ok=True)
    with open(build_dir / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _mounts_under(root: Path) -> list[str]:
    prefix = str(root.resolve()) + "/"
    with open("/proc/self/mounts") as mounts:
        points = [line.split()[1] for line in mounts]
    return sorted((p for p in points if p.startswith(prefix)), key=len, reverse=True)


def _remove_rootfs(root: Path) -> None:
    # A debootstrap that failed half-way can leave /proc or /sys mounted inside the
    # tree; deleting through those mounts would be a disaster, so unmount first.
    if not root.exists():
        return
    for point in _mounts_under(root):
        subprocess.run(["umount", "-l", point], check=False, capture_output=True)
    if _mounts_under(root):
        raise SandboxUnavailable(f"cannot clean {root}: something is still mounted under it")
    shutil.rmtree(root)


def _debootstrap_base(build_dir: Path, progress: Progress) -> None:
    debootstrap = shutil.which("debootstrap") or next(
        (p for p in ("/usr/sbin/debootstrap", "/sbin/debootstrap") if os.path.exists(p)), None
    )
    if debootstrap is None or os.geteuid() != 0:
        raise SandboxUnavailable(
            f"cannot pull {UPSTREAM_BASE} and cannot bootstrap a base image here "
            "(needs root and debootstrap: apt-get install -y debootstrap)"
        )
    mirror = os.environ.get("DLGRADE_DEBIAN_MIRROR") or DEBIAN_MIRROR
    root = build_dir / "rootfs"
    _remove_rootfs(root)
    log = build_dir / "debootstrap.log"
    progress(f"base: debootstrap {DEBIAN_SUITE} from {mirror} (log: {log})")
    cmd = [debootstrap, "--variant=minbase", "--include=python3,python3-venv",
           DEBIAN_SUITE, str(root), mirror]  # fmt: skip
    with open(log, "wb") as out:
        status = subprocess.run(
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        ).returncode
    if status != 0:
        _remove_rootfs(root)
        raise SandboxUnavailable(f"debootstrap failed ({status}): {_tail(log.read_bytes())}")
    try:
        # Package caches and manuals are dead weight in a sandbox that has no apt.
        for junk in ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/man",
                     "usr/share/info"):  # fmt: skip
            shutil.rmtree(root / junk, ignore_errors=True)
        tar = subprocess.Popen(
            ["tar", "--numeric-owner", "-C", str(root), "-c", "."], stdout=subprocess.PIPE
        )
        assert tar.stdout is not None
        path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        cmd = ["import", "--change", f"ENV PATH={path}", "--change", "ENV LANG=C.UTF-8",
               "--change", 'CMD ["python3"]',
               "--message", f"debootstrap --variant=minbase {DEBIAN_SUITE} + python3",
               "-", BASE_IMAGE]  # fmt: skip
        try:
            _checked(
                cmd,
                timeout=1800,
                stdin=tar.stdout.fileno(),
                what="docker import of the bootstrapped base",
            )
        finally:
            tar.stdout.close()
            if tar.wait() != 0:
                raise SandboxUnavailable("tar of the bootstrapped base failed")
    finally:
        _remove_rootfs(root)


def _check_base(progress: Progress) -> None:
    probe = "import ensurepip, sys, venv; print('%d.%d' % sys.version_info[:2])"
    out = _checked(
        ["run", "--rm", "--network", "none", "--pull", "never", BASE_IMAGE, "python3", "-c", probe],
        timeout=120,
        what="checking the base image",
    )
    found = out.decode().strip()
    if found != PYTHON_VERSION:
        raise SandboxUnavailable(
            f"{BASE_IMAGE} has Python {found}, the wheels need {PYTHON_VERSION}"
        )


def ensure_base(
    *, rebuild: bool = False, source: str = "auto", progress: Progress = _stderr
) -> str:
    """Make ``dlgrade-base:bookworm`` exist; return its image id.

    ``source``: "pull" (python:3.11-slim-bookworm from a registry), "debootstrap"
    (local Debian bootstrap, root only, the slow step: about a minute), or "auto"
    (pull, else debootstrap). An existing base is kept unless ``rebuild``.
    """
    if source not in ("auto", "pull", "debootstrap"):
        raise ValueError(f"unknown base source {source!r}")
    existing = image_id(BASE_IMAGE)
    if existing and not rebuild:
        return existing
    started = time.monotonic()
    pulled = False
    if source in ("auto", "pull"):
        # Fails within milliseconds when the registry's name does not resolve.
        done = docker_cli(["pull", UPSTREAM_BASE], timeout=300)
        pulled = done.returncode == 0
        if pulled:
            _checked(["tag", UPSTREAM_BASE, BASE_IMAGE], timeout=30, what="docker tag")
            progress(f"base: pulled {UPSTREAM_BASE}")
        elif source == "pull":
            raise SandboxUnavailable(f"docker pull {UPSTREAM_BASE} failed: {_tail(done.stderr)}")
        else:
            progress(f"base: cannot pull {UPSTREAM_BASE} ({_tail(done.stderr, 200)})")
    if not pulled:
        _debootstrap_base(data_dir() / "build", progress)
    _check_base(progress)
    new_id = image_id(BASE_IMAGE) or ""
    progress(
        f"base: {BASE_IMAGE} ready in {time.monotonic() - started:.1f}s, "
        f"{image_size_mb(BASE_IMAGE):.0f} MB"
    )
    return new_id


def _reachable(url: str, timeout: float = 5.0) -> bool:
    # Imported here: urllib.request (ssl, http, email) is a tenth of a second that
    # every grading would pay for importing this module's requirements() alone.
    import urllib.request

    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout):
            return True
    except (OSError, ValueError):
        return False


def _torch_index(env: str, progress: Progress) -> str | None:
    """The +cpu torch index to add for ``env``, if it has torch and the index answers.

    Asked once up front: pip would otherwise retry an unreachable index for every
    single package it resolves (minutes, on a machine that sees only a PyPI mirror).
    """
    index = os.environ.get("DLGRADE_TORCH_INDEX", TORCH_CPU_INDEX)
    if not index or not any(r.startswith("torch") for r in ENVIRONMENTS[env]):
        return None
    if index.startswith(("http://", "https://")) and not _reachable(index.rstrip("/") + "/"):
        progress(f"{env}: {index} does not answer; relying on pip's own indexes for torch")
        return None
    return index


def _pip_download(
    env: str, dest: Path, cache: Path, *, torch_index: str | None = None, offline: bool
) -> subprocess.CompletedProcess:
    arch = platform.machine()
    platforms = [f"manylinux_2_{minor}_{arch}" for minor in range(BASE_GLIBC_MINOR, 16, -1)]
    platforms += [f"manylinux2014_{arch}", f"linux_{arch}"]
    cmd = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check",
           "--only-binary=:all:", "--implementation", "cp", "--python-version", PYTHON_VERSION,
           "--dest", str(dest), "--find-links", str(cache)]  # fmt: skip
    for tag in platforms:
        cmd += ["--platform", tag]
    if offline:
        cmd.append("--no-index")
    elif torch_index:
        cmd += ["--extra-index-url", torch_index]
    cmd += requirements(env)
    return subprocess.run(cmd, capture_output=True, check=False)


def download_wheels(env: str, dest: Path, progress: Progress = _stderr) -> list[Path]:
    """Exactly the wheels ``env`` resolves to, placed in the empty folder ``dest``.

    Resolved from the cache ``<data dir>/wheels/<env>`` alone when it suffices
    (no network), else from pip's indexes; new wheels are added to the cache.
    """
    cuda = torch_cuda_wanted(env)
    cache = data_dir() / "wheels" / (f"{env}-cuda" if cuda else env)
    cache.mkdir(parents=True, exist_ok=True)
    done = _pip_download(env, dest, cache, offline=True)
    if done.returncode != 0:
        progress(f"{env}: downloading wheels for {' '.join(requirements(env))}")
        shutil.rmtree(dest)
        dest.mkdir()
        index = _torch_index(env, progress)
        done = _pip_download(env, dest, cache, torch_index=index, offline=False)
        if done.returncode != 0:
            raise SandboxUnavailable(f"pip download for '{env}' failed: {_tail(done.stderr)}")
    wheels = sorted(dest.glob("*.whl"))
    if not cuda and any(w.name.startswith(("nvidia_", "nvidia-")) for w in wheels):
        raise SandboxUnavailable(
            f"pip resolved a CUDA build of torch for '{env}'; point DLGRADE_TORCH_INDEX at an "
            f"index of +cpu wheels (default {TORCH_CPU_INDEX})"
        )
    for wheel in wheels:
        if not (cache / wheel.name).exists():
            shutil.copy2(wheel, cache / wheel.name)
    return wheels


def _docker_build_env() -> dict[str, str]:
    env = cli_env()
    # The Dockerfile suits both builders; without buildx the client needs telling.
    if "DOCKER_BUILDKIT" not in env and docker_cli(["buildx", "version"], timeout=30).returncode:
        env["DOCKER_BUILDKIT"] = "0"
    return env


def _verify_image(env: str, tag: str) -> None:
    probe = (
        "import importlib.util, json, sys\n"
        "import numpy\n"
        "torch = None\n"
        "if importlib.util.find_spec('torch') is not None:\n"
        "    import torch as t; torch = t.__version__\n"
        "import matplotlib.pyplot, tqdm  # the course's helpers\n"
        "print(json.dumps({'exe': sys.executable, 'numpy': numpy.__version__, 'torch': torch}))\n"
    )
    cmd = ["run", "--rm", "--network", "none", "--pull", "never", "--user", SANDBOX_USER,
           tag, "python3", "-c", probe]  # fmt: skip
    out = _checked(
        cmd,
        timeout=300,
        what=f"checking the '{env}' image",
    )
    found = json.loads(out.decode().strip().splitlines()[-1])
    wants_torch = any(r.startswith("torch") for r in ENVIRONMENTS[env])
    has_torch = found["torch"] is not None
    problems = []
    if found["exe"] != "/opt/venv/bin/python3":
        problems.append(f"python3 is {found['exe']}, not the environment's")
    if has_torch != wants_torch:
        problems.append(f"torch importable: {has_torch}, wanted: {wants_torch}")
    if wants_torch and not str(found["torch"]).startswith(TORCH_VERSION):
        problems.append(f"torch {found['torch']}, wanted {TORCH_VERSION}")
    if problems:
        raise SandboxUnavailable(f"the '{env}' image is wrong: " + "; ".join(problems))


def _remove_superseded(repo: str, keep: set[str]) -> None:
    """Untag earlier builds of ``repo`` (a gigabyte each for torch).

    Plain ``docker rmi``: an image that a container still uses stays.
    """
    listing = docker_cli(["images", repo, "--format", "{{.Tag}}"], timeout=30)
    old = [f"{repo}:{t}" for t in listing.stdout.decode().split() if t not in keep]
    if old:
        docker_cli(["rmi", *old], timeout=300)


def build_env_image(
    env: str, base_id: str, *, force: bool = False, progress: Progress = _stderr
) -> str:
    """Build (or find already built) the image of ``env`` on base ``base_id``; return its tag."""
    build_dir = data_dir() / "build"
    context = build_dir / f"context-{env}"
    shutil.rmtree(context, ignore_errors=True)
    (context / "wheels").mkdir(parents=True)
    try:
        wheels = download_wheels(env, context / "wheels", progress)
        dockerfile = DOCKERFILE.read_bytes()
        reqs = requirements(env)
        digest = hashlib.sha256(dockerfile)
        for part in (env, base_id, *reqs, *(w.name for w in wheels)):
            digest.update(b"\0" + part.encode())
        content_hash = digest.hexdigest()[:12]
        repo = image_repository(env)
        tag = f"{repo}:{content_hash}"
        if not force and image_labels(tag) is not None:
            _checked(["tag", tag, f"{repo}:current"], timeout=30, what="docker tag")
            progress(f"{env}: {tag} is up to date")
            return tag
        (context / "Dockerfile").write_bytes(dockerfile)
        (context / "requirements.txt").write_text("\n".join(reqs) + "\n")
        started = time.monotonic()
        progress(f"{env}: building {tag} from {len(wheels)} wheels")
        cmd = ["build", "--network", "none", "--build-arg", f"BASE={BASE_IMAGE}",
               "--label", f"{LABEL_ENV}={env}", "--label", f"{LABEL_HASH}={content_hash}",
               "--label", f"{LABEL_RECIPE}={recipe_hash(env)}",
               "--tag", tag, "--tag", f"{repo}:current", str(context)]  # fmt: skip
        _checked(
            cmd,
            timeout=3600,
            env=_docker_build_env(),
            what=f"docker build of the '{env}' image",
        )
        _verify_image(env, tag)
        _remove_superseded(repo, keep={content_hash, "current"})
        progress(
            f"{env}: built {tag} in {time.monotonic() - started:.1f}s, {image_size_mb(tag):.0f} MB"
        )
        return tag
    finally:
        shutil.rmtree(context, ignore_errors=True)
        # The build stage (wheels + a second venv, over a GB for torch) is only cache
        # for a build that the content hash would skip anyway.
        docker_cli(
            ["image", "prune", "--force", "--filter", f"label={LABEL_STAGE}=build"], timeout=300
        )


def build_images(
    envs: Sequence[str] = ("numpy", "torch"),
    *,
    force: bool = False,
    rebuild_base: bool = False,
    base_source: str = "auto",
    progress: Progress = _stderr,
) -> dict[str, str]:
    """Build the sandbox images of ``envs``; return {env: immutable image tag}.

    Skips what is already built from the same Dockerfile, wheels and base unless
    ``force``. The base is built only when missing (or ``rebuild_base``).
    Raises SandboxUnavailable when the engine does not answer or a step fails.
    """
    for env in envs:
        requirements(env)  # unknown names fail before anything slow starts
    if docker_cli(["info", "--format", "{{.ServerVersion}}"], timeout=30).returncode != 0:
        raise SandboxUnavailable(
            "the Docker engine does not answer; start it with scripts/start_docker.sh"
        )
    with _build_lock(data_dir() / "build"):
        base_id = ensure_base(rebuild=rebuild_base, source=base_source, progress=progress)
        return {env: build_env_image(env, base_id, force=force, progress=progress) for env in envs}


# -- command line --------------------------------------------------------------------------


def main_build(argv: Sequence[str] | None = None) -> int:
    """``dlgrade images build [--env E]... [--services] [--force] [--rebuild-base] [--base S]``."""
    parser = argparse.ArgumentParser(
        prog="dlgrade images build", description="Build the Docker images of the sandbox."
    )
    parser.add_argument("--env", action="append", choices=sorted(ENVIRONMENTS),
                        help="environment to build (repeatable; default: all)")  # fmt: skip
    parser.add_argument("--services", action="store_true",
                        help="build the service's own images too (portal and workers, proxy, "
                             "postgres, redis: deploy/, grader/service_images.py)")  # fmt: skip
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    parser.add_argument("--rebuild-base", action="store_true", help=f"rebuild {BASE_IMAGE} too")
    parser.add_argument("--base", choices=("auto", "pull", "debootstrap"), default="auto",
                        help=f"where the base comes from (auto: pull {UPSTREAM_BASE}, "
                             "else debootstrap)")  # fmt: skip
    args = parser.parse_args(argv)
    envs = args.env or list(ENVIRONMENTS)
    try:
        tags = build_images(
            envs, force=args.force, rebuild_base=args.rebuild_base, base_source=args.base
        )
        if args.services:
            from grader.service_images import build_service_images

            tags |= build_service_images(force=args.force, base_source=args.base)
    except SandboxUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for env, tag in tags.items():
        print(f"{env}\t{tag}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] != "build":
        print("usage: python -m grader.sandbox.images build [--help]", file=sys.stderr)
        return 2
    return main_build(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
