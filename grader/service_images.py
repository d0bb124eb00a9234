"""The images of the service itself (``dlgrade images build --services``), built offline.

Four images, each on the sandbox images' base (``dlgrade-base:bookworm``: a local
Debian bootstrap when Docker Hub cannot be reached, see ``sandbox/images.py``),
so no image registry is ever asked for anything:

    dlgrade-service    the portal (gunicorn) and the workers: Python 3.11, dlgrade's
                       dependencies from wheels downloaded on this host, the repository's
                       packages and built-in assignments, Debian's docker client and
                       PostgreSQL 15 client (``dlgrade backup``)
    dlgrade-proxy      Debian's nginx: buffers requests, serves /static/
    dlgrade-postgres   Debian's PostgreSQL 15, initialised from POSTGRES_PASSWORD
    dlgrade-redis      Debian's Redis with its append-only file on

Debian packages are installed from the mirror the base was bootstrapped from
(the only network a build needs besides the wheels' index, and the one a
debootstrap needed anyway). The Dockerfiles live in ``deploy/``.

Each image is tagged ``:current`` and ``:<hash>`` of what went into its context
(Dockerfile, wheels, sources), so an unchanged image is not built again; the
service image installs its dependencies in a layer before the sources, so a new
commit rebuilds only its last layers.
"""

from __future__ import annotations

import contextlib
import hashlib
import platform
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from grader.config import REPO_ROOT, data_dir
from grader.sandbox.base import SandboxUnavailable
from grader.sandbox.images import (
    BASE_GLIBC_MINOR,
    BASE_IMAGE,
    PYTHON_VERSION,
    Progress,
    _build_lock,
    _checked,
    _docker_build_env,
    _remove_superseded,
    _stderr,
    _torch_index,
    docker_cli,
    ensure_base,
    image_labels,
    image_size_mb,
)

DEPLOY_DIR = REPO_ROOT / "deploy"
SERVICE_IMAGES = ("service", "proxy", "postgres", "redis")
LABEL_HASH = "dlgrade.image.hash"
# What of the repository the service image carries (never .data, tests or benches).
SOURCES = ("pyproject.toml", "README.md", "reference", "grader", "worker", "web",
           "assignments", "deploy")  # fmt: skip
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", "*.egg-info")


def image_name(name: str) -> str:
    return f"dlgrade-{name}"


def service_requirements() -> list[str]:
    """dlgrade's own dependencies (pyproject.toml), numpy pinned to this host's version.

    The trusted side's numpy must be the sandbox's to the last bit (see sandbox/images.py).
    """
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    wanted = []
    for requirement in project["dependencies"]:
        if requirement.split(">")[0].split("=")[0].split("<")[0].strip() == "numpy":
            with contextlib.suppress(PackageNotFoundError):
                requirement = f"numpy=={version('numpy')}"
        wanted.append(requirement)
    return wanted


def download_service_wheels(dest: Path, progress: Progress = _stderr) -> list[Path]:
    """The wheels of ``service_requirements()`` for the base's Python, into ``dest``.

    Resolved from the cache ``<data dir>/wheels/service`` alone when it suffices.
    """
    cache = data_dir() / "wheels" / "service"
    cache.mkdir(parents=True, exist_ok=True)
    arch = platform.machine()
    cmd = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "-q",
           "--only-binary=:all:", "--implementation", "cp", "--python-version", PYTHON_VERSION,
           "--dest", str(dest), "--find-links", str(cache)]  # fmt: skip
    for minor in range(BASE_GLIBC_MINOR, 16, -1):
        cmd += ["--platform", f"manylinux_2_{minor}_{arch}"]
    cmd += ["--platform", f"manylinux2014_{arch}", "--platform", f"linux_{arch}"]
    # setuptools: the image installs dlgrade itself (editable) with no build isolation.
    # async-timeout: redis wants it below Python 3.11.3, and bookworm's is 3.11.2 (pip,
    # told only "3.11", resolves as for a later one).
    wanted = [*service_requirements(), "setuptools>=68", "async-timeout>=4.0.3"]
    done = subprocess.run([*cmd, "--no-index", *wanted], capture_output=True, check=False)
    if done.returncode != 0:
        progress(f"service: downloading wheels for {len(wanted)} requirements")
        shutil.rmtree(dest)
        dest.mkdir()
        index = _torch_index("torch", progress)
        extra = ["--extra-index-url", index] if index else []
        done = subprocess.run([*cmd, *extra, *wanted], capture_output=True, check=False)
        if done.returncode != 0:
            tail = done.stderr.decode(errors="replace")[-3000:]
            raise SandboxUnavailable(f"pip download for the service image failed: {tail}")
    wheels = sorted(dest.glob("*.whl"))
    if any(w.name.startswith(("nvidia_", "nvidia-")) for w in wheels):
        raise SandboxUnavailable(
            "pip resolved a CUDA build of torch for the service image; point "
            "DLGRADE_TORCH_INDEX at an index of +cpu wheels"
        )
    for wheel in wheels:
        if not (cache / wheel.name).exists():
            shutil.copy2(wheel, cache / wheel.name)
    return wheels


def _context(name: str, context: Path, progress: Progress) -> None:
    """Fill the empty folder ``context`` with what image ``name`` is built from."""
    shutil.copy2(DEPLOY_DIR / f"{name}.Dockerfile", context / "Dockerfile")
    if name == "service":
        (context / "wheels").mkdir()
        download_service_wheels(context / "wheels", progress)
        src = context / "src"
        src.mkdir()
        for part in SOURCES:
            path = REPO_ROOT / part
            if path.is_dir():
                shutil.copytree(path, src / part, ignore=IGNORED)
            else:
                shutil.copy2(path, src / part)
    elif name == "proxy":
        shutil.copy2(DEPLOY_DIR / "nginx.conf", context / "nginx.conf")
        shutil.copytree(REPO_ROOT / "web" / "static", context / "static", ignore=IGNORED)
    elif name == "postgres":
        shutil.copy2(DEPLOY_DIR / "postgres-entrypoint.sh", context / "postgres-entrypoint.sh")


def context_hash(context: Path, base_id: str) -> str:
    """A digest of every file's path, mode and bytes under ``context``, and of the base."""
    digest = hashlib.sha256(base_id.encode())
    for path in sorted(p for p in context.rglob("*") if p.is_file()):
        digest.update(b"\0" + path.relative_to(context).as_posix().encode())
        digest.update(oct(path.stat().st_mode & 0o777).encode())
        if path.suffix == ".whl":
            digest.update(path.name.encode())  # a wheel's name pins its content
        else:
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:12]


def build_service_image(
    name: str, base_id: str, *, force: bool = False, progress: Progress = _stderr
) -> str:
    """Build (or find already built) image ``name``; return its immutable tag."""
    context = data_dir() / "build" / f"context-{name}"
    shutil.rmtree(context, ignore_errors=True)
    context.mkdir(parents=True)
    try:
        _context(name, context, progress)
        content = context_hash(context, base_id)
        repo = image_name(name)
        tag = f"{repo}:{content}"
        if not force and image_labels(tag) is not None:
            _checked(["tag", tag, f"{repo}:current"], timeout=30, what="docker tag")
            progress(f"{name}: {tag} is up to date")
            return tag
        started = time.monotonic()
        progress(f"{name}: building {tag}")
        cmd = ["build", "--build-arg", f"BASE={BASE_IMAGE}", "--label", f"{LABEL_HASH}={content}",
               "--tag", tag, "--tag", f"{repo}:current", str(context)]  # fmt: skip
        done = docker_cli(cmd, timeout=3600, env=_docker_build_env())
        if done.returncode != 0:
            # The legacy builder prints the failing step's output on stdout, its notices on stderr.
            tail = (done.stdout + done.stderr).decode(errors="replace")[-3000:]
            raise SandboxUnavailable(f"docker build of {repo} failed: {tail}")
        _remove_superseded(repo, keep={content, "current"})
        progress(
            f"{name}: built {tag} in {time.monotonic() - started:.1f}s, {image_size_mb(tag):.0f} MB"
        )
        return tag
    finally:
        shutil.rmtree(context, ignore_errors=True)


def build_service_images(
    names: Sequence[str] = SERVICE_IMAGES,
    *,
    force: bool = False,
    base_source: str = "auto",
    progress: Progress = _stderr,
) -> dict[str, str]:
    """Build the service's images; return {name: immutable tag}. Raises SandboxUnavailable."""
    unknown = sorted(set(names) - set(SERVICE_IMAGES))
    if unknown:
        raise SandboxUnavailable(f"unknown service image(s): {', '.join(unknown)}")
    if docker_cli(["info", "--format", "{{.ServerVersion}}"], timeout=30).returncode != 0:
        raise SandboxUnavailable(
            "the Docker engine does not answer; start it with scripts/start_docker.sh"
        )
    with _build_lock(data_dir() / "build"):
        base_id = ensure_base(source=base_source, progress=progress)
        return {n: build_service_image(n, base_id, force=force, progress=progress) for n in names}
