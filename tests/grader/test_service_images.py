"""The service's images: what goes into their build contexts (the builds themselves run in
tests/deploy/test_stack.py, which brings the stack up from them)."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import pytest

from grader.service_images import _context, context_hash, service_requirements


def test_requirements_pin_the_trusted_sides_numpy_and_carry_the_service() -> None:
    wanted = service_requirements()
    assert f"numpy=={version('numpy')}" in wanted
    names = {w.split(">")[0].split("=")[0].split("<")[0].split("[")[0] for w in wanted}
    assert {"gunicorn", "prometheus-client", "psycopg", "celery", "torch"} <= names


@pytest.mark.parametrize("name", ["proxy", "postgres", "redis"])
def test_contexts_hold_the_dockerfile_and_only_what_it_copies(name: str, tmp_path: Path) -> None:
    _context(name, tmp_path, print)
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert "Dockerfile" in files
    assert not any(f.startswith((".data", "tests", "grader", "reference")) for f in files), files
    if name == "proxy":
        conf = (tmp_path / "nginx.conf").read_text()
        assert "proxy_request_buffering on" in conf and "client_body_timeout" in conf
        assert any(f.startswith("static/") for f in files)


def test_context_hash_follows_content_and_mode(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM x\n")
    first = context_hash(tmp_path, "base1")
    assert context_hash(tmp_path, "base1") == first
    assert context_hash(tmp_path, "base2") != first  # a new base is a new image
    (tmp_path / "Dockerfile").write_text("FROM y\n")
    second = context_hash(tmp_path, "base1")
    assert second != first
    (tmp_path / "Dockerfile").chmod(0o755)
    assert context_hash(tmp_path, "base1") != second
