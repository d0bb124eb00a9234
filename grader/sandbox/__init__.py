"""Sandbox backends: ``docker`` in production, ``local`` (bubblewrap / rlimits) for one machine."""

from __future__ import annotations

import sys

from grader.sandbox.base import Sandbox, SandboxLimits, SandboxSpec, SandboxUnavailable

KINDS = ("docker", "local")


def docker_ready(environment: str) -> bool:
    """A Docker engine answers and the environment's image exists."""
    try:
        from grader.sandbox import docker, images
    except ImportError:
        return False
    if not docker.docker_available():
        return False
    try:
        images.image_for(environment)
    except SandboxUnavailable:
        return False
    return True


def default_kind(environment: str = "numpy") -> str:
    """docker when a Docker engine answers (and has the image), else local."""
    return "docker" if docker_ready(environment) else "local"


def make_sandbox(kind: str | None, spec: SandboxSpec) -> Sandbox:
    kind = kind or default_kind(spec.environment)
    if kind == "docker":
        from grader.sandbox import pool
        from grader.sandbox.docker import DockerSandbox

        # A worker keeps a warm pool (grader/sandbox/pool.py): its gradings take from it.
        warm = pool.installed()
        return DockerSandbox(spec) if warm is None else pool.PooledDockerSandbox(spec, warm)
    if kind == "local":
        from grader.sandbox.local import LocalSandbox

        # A pool is installed only by code that imported the pool module (a worker): where
        # it was never imported there is none, and the command line need not pay for
        # importing it (and Docker's modules with it) to find that out.
        pool = sys.modules.get("grader.sandbox.pool")
        warm = pool.installed("local") if pool is not None else None
        if warm is None:
            return LocalSandbox(spec)
        from grader.sandbox.local_pool import PooledLocalSandbox

        return PooledLocalSandbox(spec, warm)
    raise SandboxUnavailable(f"unknown sandbox '{kind}' (choose from {', '.join(KINDS)})")


__all__ = [
    "KINDS",
    "Sandbox",
    "SandboxLimits",
    "SandboxSpec",
    "SandboxUnavailable",
    "default_kind",
    "make_sandbox",
]
