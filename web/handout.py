"""The handout on an assignment's page: what to write, how it is graded, within what limits.

Written once by the instructor, in the assignment folder: the starter's
functions (signatures and docstrings, read from its source without running it),
``[handout] formulas`` in the manifest (a LaTeX subset, rendered as MathML here:
``web/mathml.py``), the checks (points, hidden or not, what each checks: its
docstring) grouped by the function they test (``grader.feedback.function_of``,
the rule the reports use), and the manifest's ``[limits]``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markupsafe import Markup

from grader.assignment import Assignment as AssignmentSpec
from grader.feedback import function_of
from web.mathml import MathError, to_mathml


@dataclass(frozen=True)
class CheckDoc:
    name: str
    points: float
    hidden: bool
    description: str


@dataclass(frozen=True)
class FunctionDoc:
    """One function (or class) of the starter, with the checks that test it."""

    name: str
    signature: str  # "def relu(x)" / "class Net(nn.Module)"
    doc: str
    formula: Markup | None = None
    formula_error: str = ""
    methods: tuple[tuple[str, str], ...] = ()  # a class's public methods: (signature, doc)
    checks: list[CheckDoc] = field(default_factory=list)

    @property
    def points(self) -> float:
        return round(sum(c.points for c in self.checks), 6)


@dataclass(frozen=True)
class Handout:
    intro: str
    files: tuple[str, ...]  # the starter's files
    functions: tuple[FunctionDoc, ...]
    across: tuple[CheckDoc, ...]  # checks of several functions at once
    limits: tuple[tuple[str, str], ...]
    environment: str

    @property
    def hidden(self) -> list[CheckDoc]:
        every = [c for f in self.functions for c in f.checks] + list(self.across)
        return [c for c in every if c.hidden]


def _signature(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> str:
    if isinstance(node, ast.ClassDef):
        bases = ", ".join(ast.unparse(b) for b in node.bases)
        return f"class {node.name}({bases})" if bases else f"class {node.name}"
    returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
    return f"def {node.name}({ast.unparse(node.args)}){returns}"


def _starter(starter: Path) -> tuple[str, tuple[str, ...], list[FunctionDoc]]:
    intro, files, found = "", [], []
    for path in sorted(starter.rglob("*.py")):
        if path.is_symlink() or not path.is_file():
            continue
        files.append(path.relative_to(starter).as_posix())
        try:
            tree = ast.parse(path.read_text(errors="replace"))
        except SyntaxError:
            continue
        intro = intro or (ast.get_docstring(tree) or "")
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                continue
            if node.name.startswith("_"):
                continue
            methods: list[tuple[str, str]] = []
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    if not isinstance(item, ast.FunctionDef):
                        continue
                    if not item.name.startswith("_") or item.name == "__init__":
                        methods.append((_signature(item), ast.get_docstring(item) or ""))
            doc = ast.get_docstring(node) or ""
            found.append(FunctionDoc(node.name, _signature(node), doc, methods=tuple(methods)))
    return intro, tuple(files), found


def _limits(manifest: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    limits = manifest.get("limits", {})
    out = []
    for key, label, unit in (
        ("call_seconds", "Each call into your code", "s"),
        ("load_seconds", "Loading your file", "s"),
        ("total_seconds", "The whole grading", "s"),
        ("memory_mb", "Memory, all your processes together", "MB"),
        ("output_kb", "Printed output kept", "KB"),
    ):
        if key in limits:
            out.append((label, f"{limits[key]:g} {unit}"))
    return tuple(out)


ENVIRONMENTS = {
    "numpy": "Python with NumPy (torch cannot be imported)",
    "torch": "Python with NumPy and PyTorch",
}


def _read(root: Path, spec: AssignmentSpec) -> Handout:
    intro, files, functions = _starter(root / "starter")
    manifest = spec.manifest
    formulas = manifest.get("handout", {}).get("formulas", {})
    names = tuple(f.name for f in functions)
    by_name = {f.name: f for f in functions}
    across: list[CheckDoc] = []
    for c in spec.checks:
        doc = CheckDoc(c.name, c.points, c.hidden, c.description.split("\n\n")[0])
        owner = function_of(c.name, names)
        (by_name[owner].checks if owner else across).append(doc)
    rendered = []
    for f in functions:
        formula, error = None, ""
        if f.name in formulas:
            try:
                formula = Markup(to_mathml(str(formulas[f.name])))  # escaped by to_mathml
            except MathError as err:
                error = f"{formulas[f.name]} ({err})"
        rendered.append(
            FunctionDoc(f.name, f.signature, f.doc, formula, error, f.methods, f.checks)
        )
    return Handout(
        intro=intro,
        files=files,
        functions=tuple(rendered),
        across=tuple(across),
        limits=_limits(manifest),
        environment=ENVIRONMENTS.get(spec.environment, spec.environment),
    )


def read_handout(spec: AssignmentSpec) -> Handout:
    """The handout of an assignment, read again whenever its folder's files change."""
    root = spec.root
    paths = [root / "assignment.toml", root / "checks.py", *sorted((root / "starter").rglob("*"))]
    stamp = tuple(p.stat().st_mtime_ns for p in paths if p.exists())
    hit = _cache.get(root)
    if hit is None or hit[0] != stamp:
        hit = _cache[root] = (stamp, _read(root, spec))
    return hit[1]


_cache: dict[Path, tuple[tuple[int, ...], Handout]] = {}
