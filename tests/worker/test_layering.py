"""Imports flow one way: web -> worker -> grader -> reference. Checked on the source."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from grader.config import REPO_ROOT

FORBIDDEN = {
    "reference": {"grader", "worker", "web", "assignments"},
    "grader": {"worker", "web"},
    "worker": {"web"},
}


def _imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_never_imports_the_ones_above_it(package: str) -> None:
    files = sorted((REPO_ROOT / package).rglob("*.py"))
    assert files, f"no sources under {package}/"
    offenders = {
        str(f.relative_to(REPO_ROOT)): sorted(_imported_packages(f) & FORBIDDEN[package])
        for f in files
    }
    assert {f: bad for f, bad in offenders.items() if bad} == {}


def test_the_layering_check_sees_an_upward_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nfrom worker.tasks import grade\nimport web.app as w\n")
    assert _imported_packages(bad) & FORBIDDEN["grader"] == {"worker", "web"}
