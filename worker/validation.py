"""Validating an uploaded assignment folder: a job of the workers, on the queue, like a grading.

An uploaded folder's checks.py is instructor code. It is imported here, in a
worker (which imports checks to grade anyway), never in the portal: the portal
stores the unpacked folder, records an ``AssignmentUpload`` row ``validating``
and sends this job its id (``VALIDATE_TASK``), nothing else. The job runs
``dlgrade assignment validate`` (the solution scores full, the starter 0, each
mutant fails exactly its declared checks, two runs agree), writes its log to the
row as it goes (the portal's page shows it), and ends the row ``valid`` with the
facts publishing needs (``Version``: manifest hash, points, time limits), or
``invalid`` with the report. A message lost with a broker leaves the row
``validating``; the page offers to validate again.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path

from grader.assignment import AssignmentError, read_manifest
from worker.assignment_store import local_folder
from worker.config import Settings
from worker.db import get_engine, session_factory
from worker.models import AssignmentUpload, utcnow
from worker.submit import version_of

log = logging.getLogger(__name__)

VALIDATE_TASK = "dlgrade.validate_upload"
REPORT_CHARS = 20000
PROGRESS_EVERY_S = 1.0
# The margin above the gradings the job runs, for the engine and the database.
MARGIN_S = 120.0


def validation_time_limit(manifest: dict) -> float:  # type: ignore[type-arg]
    """Seconds the job may take: its gradings (solution twice, starter, each mutant) at the
    manifest's total limit each, plus a margin. Read from the manifest alone (the portal's
    side never imports checks)."""
    try:
        values = read_manifest(manifest)
    except AssignmentError:
        values = {"limits.total_seconds": 600.0, "mutants": []}
    gradings = 3 + len(values["mutants"])
    return gradings * float(values["limits.total_seconds"]) + MARGIN_S


def validate_upload(settings: Settings, upload_id: int) -> str:
    """Validate one upload and record the outcome (the job's body); the status it ended in.

    An upload that is no longer ``validating`` (validated already by a message
    delivered twice) is left as it is.
    """
    from grader.assignment import load_assignment
    from grader.validate import validate

    Session = session_factory(settings.database_url)
    with Session() as s:
        row = s.get(AssignmentUpload, upload_id)
        if row is None or row.status != "validating":
            return "gone" if row is None else row.status
        path = row.path
    lines: list[str] = []
    last = [time.monotonic()]

    def progress(line: str) -> None:
        lines.append(line)
        if time.monotonic() - last[0] >= PROGRESS_EVERY_S:
            last[0] = time.monotonic()
            _write(Session, upload_id, {"report": "\n".join(lines)[-REPORT_CHARS:]})

    facts: dict = {}  # type: ignore[type-arg]
    try:
        # The portal's folder where this host can read it, else its archive from the database.
        here = local_folder(get_engine(settings.database_url), settings.data_dir, path)
        spec = load_assignment(Path(here))
        outcome = validate(spec, sandbox=settings.sandbox, log=progress)
        ok = outcome.ok
        lines.append(("VALID: " if ok else "INVALID:") + outcome.summary)
        if ok:
            # What students' pages show of the checks (the handout), so the portal need not
            # import them either: names, points, hidden or not, descriptions.
            checks = [{"name": c.name, "points": c.points, "hidden": c.hidden,
                       "description": c.description} for c in spec.checks]  # fmt: skip
            # Recorded at the portal's path: every host finds the folder by it (above).
            version = dataclasses.replace(version_of(spec, settings), path=path)
            facts = version.to_json() | {"checks": checks}
    except Exception as err:  # a broken checks.py must end as a report, not a stuck job
        log.exception("validating assignment upload %s", upload_id)
        ok = False
        lines.append(f"INVALID: validation raised {type(err).__name__}: {err}")
    status = "valid" if ok else "invalid"
    _write(
        Session,
        upload_id,
        {"status": status, "report": "\n".join(lines)[-REPORT_CHARS:], "facts": facts,
         "finished_at": utcnow()},
    )  # fmt: skip
    return status


def _write(Session, upload_id: int, values: dict) -> None:  # type: ignore[no-untyped-def,type-arg]
    """Record on the row, while it is still being validated (a restart may have reset it)."""
    from sqlalchemy import update

    with Session.begin() as s:
        s.execute(
            update(AssignmentUpload)
            .where(AssignmentUpload.id == upload_id, AssignmentUpload.status == "validating")
            .values(**values)
        )
