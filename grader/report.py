"""Render a GradeReport for a terminal."""

from __future__ import annotations

import re

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
    if report.status == ReportStatus.PLATFORM_ERROR:
        # A grading that could not finish gives no verdict: no score to misread as one.
        lines = [f"{report.assignment}: no verdict ({report.status})"]
    else:
        lines = [
            f"{report.assignment}: {report.score:g} / {report.max_score:g} points ({report.status})"
        ]
    if report.message:
        lines.append(_indent(report.message, "  "))
    width = max((len(c.name) for c in report.checks), default=10)
    for c in report.checks:
        tag = " (hidden)" if c.hidden else ""
        lines.append(f"  [{_MARK[c.status]:>7}] {c.name:<{width}} {c.score:g}/{c.max_score:g}{tag}")
        if c.status != CheckStatus.PASSED and c.message:
            lines.append(_indent(c.message))
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
