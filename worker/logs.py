"""Logs as one JSON object per line (``DLGRADE_LOG_FORMAT=json``), for the portal and workers.

Each line carries the time, level, logger and message, and the submission and run a
line is about wherever the code doing the work has said so (``about_submission``):
``grep '"submission_id": 42'`` across every host's logs then follows one submission
from upload to report. Without the variable, logging stays as it was (plain text).
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

_current: contextvars.ContextVar[dict[str, int] | None] = contextvars.ContextVar(
    "dlgrade_log_ids", default=None
)


@contextlib.contextmanager
def about_submission(submission_id: int, run_id: int | None = None) -> Iterator[None]:
    """Every line logged inside (this thread or task) names this submission (and run)."""
    ids = {"submission_id": int(submission_id)}
    if run_id is not None:
        ids["run_id"] = int(run_id)
    token = _current.set(ids)
    try:
        yield
    finally:
        _current.reset(token)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "pid": record.process,
        }
        line.update(_current.get() or {})
        for key in ("submission_id", "run_id"):
            value = getattr(record, key, None)
            if value is not None:
                line[key] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def json_wanted() -> bool:
    return os.environ.get("DLGRADE_LOG_FORMAT", "").strip().lower() == "json"


def configure(level: int | str = logging.INFO) -> bool:
    """Route the root logger through one JSON handler on stderr, when asked; whether it did."""
    if not json_wanted():
        return False
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    return True
