"""Render a GradeReport for a terminal."""

from __future__ import annotations

import re

from grader.feedback import describe_training, groups, load_failed
from grader.messages import CheckStatus, GradeReport, ReportStatus

_MARK = {
    CheckStatus.PASSED: "PASS",
    CheckStatus.FAILED: "FAIL",
    CheckStatus.ERROR: "ERROR",
    CheckStatus.TIMEOUT: "TIMEOUT",
    CheckStatus.MEMORY: "MEMORY",
    CheckStatus.CRASH: "CRASH",
    CheckStatus.PLATFORM_ERROR: "GRADER ERROR",
}


# Output and error messages are the student's text: shown, never obeyed. A raw escape
# sequence could move the terminal's cursor up and repaint the verdicts above it.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _indent(text: str, pad: str = "      ") -> str:
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text.replace("\r\n", "\n"))
    return "\n".join(pad + line for line in text.splitlines())


def render_text(report: GradeReport, *, show_output: bool = True) -> str:
    """Failing checks first, grouped by the function they test; a file that did not load
    is said once, with its traceback, and the checks it stopped are counted, not listed."""
    if report.status == ReportStatus.PLATFORM_ERROR:
        # A grading that could not finish gives no verdict: no score to misread as one.
        lines = [f"{report.assignment}: no verdict ({report.status})"]
    else:
        lines = [
            f"{report.assignment}: {report.score:g} / {report.max_score:g} points ({report.status})"
        ]
    if report.message:
        lines.append(_indent(report.message, "  "))
    if load_failed(report):
        stopped = sum(c.not_run for c in report.checks)
        lines.append(f"  {stopped} of {len(report.checks)} checks not run: the file did not load")
    width = max((len(c.name) for c in report.checks), default=10)
    for group in groups([c for c in report.checks if not c.not_run]):
        if not group.failing:  # folded: one line for a function all of whose checks pass
            lines.append(
                f"  {group.title}: {group.score:g}/{group.max_score:g}, "
                f"all {len(group.checks)} check(s) passed"
            )
            continue
        lines.append(
            f"  {group.title}: {group.score:g}/{group.max_score:g}, "
            f"{len(group.failing)} of {len(group.checks)} check(s) failing"
        )
        for c in (*group.failing, *group.passing):
            tag = " (hidden)" if c.hidden else ""
            lines.append(
                f"    [{_MARK[c.status]:>7}] {c.name:<{width}} {c.score:g}/{c.max_score:g}{tag}"
            )
            if c.status != CheckStatus.PASSED and c.message:
                lines.append(_indent(c.message, "        "))
            if c.hint:
                lines.append(_indent("hint: " + c.hint, "        "))
    for c in report.checks:
        if c.training:
            lines.append(f"  training ({c.name}):")
            lines += [_indent(line, "    ") for line in describe_training(c.training)]
    env = report.environment
    if env:
        facts = ", ".join(
            f"{k}={env[k]}" for k in ("sandbox", "environment", "seed", "wall_seconds") if k in env
        )
        lines.append(f"  environment: {facts}")
        if env.get("cuda"):
            lines.append(f"  note: {env['cuda']}")
    if show_output and report.output.strip():
        lines.append("  output of your code:")
        lines.append(_indent(report.output.rstrip()[-4000:], "    | "))
    if show_output and report.hidden_output.strip():
        lines.append("  output during hidden checks (staff only until release):")
        lines.append(_indent(report.hidden_output.rstrip()[-4000:], "    | "))
    return "\n".join(lines)
