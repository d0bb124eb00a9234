"""An instructor's own assignment: a folder uploaded as a .zip, validated, then published.

The archive is unpacked by the engine's own safe unpacker (no traversal, links
or zip bombs), with limits sized for an assignment folder. Validation is
``dlgrade assignment validate`` (the solution scores full, the starter 0, each
mutant fails exactly its declared checks, two runs agree), every grading in
the sandbox, as a background job: the page shows ``validating`` and refreshes
until the report is in. The job is a thread of the portal: a portal restarted
meanwhile loses it, and the page offers to validate again. Only a ``valid``
upload can be published; publishing a new version of an assignment the course
has keeps the old version's reports (they belong to its rows) and its settings
(``worker.submit`` copies them), and the staff's regrade button then grades old
submissions with the new checks.

Trust: an assignment's checks.py runs on the trusted side (it is what computes
verdicts), so uploading one is as powerful as adding a folder to the
repository: only a course's instructors may, and each upload is logged.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import uuid
from pathlib import Path

from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from grader.archive import SubmissionError, unpack_submission
from grader.assignment import AssignmentError, load_assignment
from web.instructor import audit
from worker.config import Settings
from worker.db import session_factory
from worker.models import AssignmentUpload, utcnow
from worker.submit import register_assignment

log = logging.getLogger(__name__)
MAX_ZIP_BYTES = 50 * 1024 * 1024
MAX_FILES = 2000
MAX_UNPACKED_BYTES = 256 * 1024 * 1024
FOLDER = "assignment-uploads"


class AssignmentRefused(ValueError):
    """The upload is not an assignment folder this course can take; the message says why."""


def _root_of(unpacked: Path) -> Path:
    """The folder holding assignment.toml: the archive's top, or its one top folder."""
    if (unpacked / "assignment.toml").is_file():
        return unpacked
    tops = [p for p in unpacked.iterdir() if p.is_dir()]
    if len(tops) == 1 and (tops[0] / "assignment.toml").is_file():
        return tops[0]
    raise AssignmentRefused("the archive has no assignment.toml (at its top or in one folder)")


def receive(
    s: Session, settings: Settings, course_id: int, upload: FileStorage | None, by_user_id: int
) -> AssignmentUpload:
    """Unpack and read the uploaded folder; a row ``validating`` (commits), or AssignmentRefused."""
    if upload is None or not upload.filename:
        raise AssignmentRefused("choose the assignment folder as a .zip file")
    data = upload.stream.read(MAX_ZIP_BYTES + 1)
    if len(data) > MAX_ZIP_BYTES:
        raise AssignmentRefused(f"the archive is larger than {MAX_ZIP_BYTES // 2**20} MB")
    home = settings.data_dir / FOLDER / uuid.uuid4().hex
    home.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="dlgrade-assignment-") as tmp:
        archive = Path(tmp) / "assignment.zip"
        archive.write_bytes(data)
        try:
            unpack_submission(
                archive,
                home / "folder",
                max_files=MAX_FILES,
                max_total_bytes=MAX_UNPACKED_BYTES,
            )
        except SubmissionError as err:
            raise AssignmentRefused(str(err)) from None
    root = _root_of(home / "folder")
    try:
        spec = load_assignment(root)
    except (AssignmentError, SyntaxError, ImportError) as err:
        raise AssignmentRefused(f"the folder is not a valid assignment: {err}") from None
    row = AssignmentUpload(
        course_id=course_id,
        slug=spec.slug,
        title=spec.title,
        path=str(root),
        status="validating",
        uploaded_by=by_user_id,
        created_at=utcnow(),
    )
    s.add(row)
    s.flush()
    audit.record(s, course_id, by_user_id, "assignment uploaded", f"assignment {spec.slug}",
                 {}, {"upload": row.id, "version": spec.version})  # fmt: skip
    s.commit()
    return row


def validate_upload(settings: Settings, upload_id: int) -> str:
    """Validate one upload and record the outcome (the background job's body); its status."""
    from grader.validate import validate

    s = session_factory(settings.database_url)()
    try:
        row = s.get(AssignmentUpload, upload_id)
        path = row.path
        s.rollback()  # grading takes seconds: hold no transaction (SQLite's one lock) meanwhile
        lines: list[str] = []
        try:
            outcome = validate(load_assignment(path), sandbox=settings.sandbox, log=lines.append)
            ok = outcome.ok
            lines.append(("VALID: " if ok else "INVALID:") + outcome.summary)
        except Exception as err:  # a broken checks.py must end as a report, not a stuck job
            log.exception("validating assignment upload %s", upload_id)
            ok = False
            lines.append(f"INVALID: validation raised {type(err).__name__}: {err}")
        row = s.get(AssignmentUpload, upload_id)
        row.status = "valid" if ok else "invalid"
        row.report = "\n".join(lines)[-20000:]
        row.finished_at = utcnow()
        s.commit()
        return row.status
    finally:
        s.close()


def restart(s: Session, upload: AssignmentUpload, by_user_id: int) -> None:
    """Validate an upload again: one whose job the portal lost when it restarted (it stays
    ``validating`` with nobody working on it), or an invalid one after a sandbox fault.
    The caller starts the job (``start_in_background``) once this is committed."""
    if upload.status not in ("validating", "invalid"):
        raise AssignmentRefused(f"only an upload that is validating or invalid is validated "
                                f"again (this one is {upload.status})")  # fmt: skip
    audit.record(s, upload.course_id, by_user_id, "assignment validated again",
                 f"assignment {upload.slug}", {"status": upload.status},
                 {"upload": upload.id})  # fmt: skip
    upload.status, upload.report, upload.finished_at = "validating", "", None
    s.commit()


def start_in_background(settings: Settings, upload_id: int) -> threading.Thread:
    """The portal's background job: a thread of this process (its outcome lands in the row)."""
    thread = threading.Thread(
        target=validate_upload, args=(settings, upload_id), name=f"validate-{upload_id}",
        daemon=True,
    )  # fmt: skip
    thread.start()
    return thread


def publish(
    s: Session, settings: Settings, course_id: int, upload: AssignmentUpload, by_user_id: int
) -> int:
    """Offer a VALID upload in the course (commits); the assignment row's id."""
    if upload.status != "valid":
        raise AssignmentRefused(f"only a valid assignment can be published (this one is "
                                f"{upload.status})")  # fmt: skip
    spec = load_assignment(upload.path)
    upload_id = upload.id
    s.rollback()  # register_assignment writes on a connection of its own
    assignment_id = register_assignment(spec, settings, course_id)
    row = s.get(AssignmentUpload, upload_id)
    row.status, row.assignment_id = "published", assignment_id
    audit.record(s, course_id, by_user_id, "assignment published", f"assignment {spec.slug}",
                 {}, {"upload": upload_id, "version": spec.version,
                      "manifest_hash": spec.manifest_hash})  # fmt: skip
    s.commit()
    return assignment_id
