"""An instructor's own assignment: a folder uploaded as a .zip, validated, then published.

The archive is unpacked by the engine's own safe unpacker (no traversal, links
or zip bombs), with limits sized for an assignment folder, and its manifest is
read (never its checks.py). Validation is a job of the workers, on the queue
like a grading (``worker.validation``): ``dlgrade assignment validate`` (the
solution scores full, the starter 0, each mutant fails exactly its declared
checks, two runs agree), every grading in the sandbox. The page shows
``validating`` with the job's log so far and refreshes until the report is in;
a job lost with a broker leaves the upload ``validating``, and the page offers
to validate again. Only a ``valid`` upload can be published, from the facts the
job recorded (``worker.submit.Version``); publishing a new version of an
assignment the course has keeps the old version's reports (they belong to its
rows) and its settings (``worker.submit`` copies them), and the staff's regrade
button then grades old submissions with the new checks. Publishing in one
course never touches another course's rows of the same folder.

Trust: an assignment's checks.py runs on the trusted side (it is what computes
verdicts), so uploading one is as powerful as adding a folder to the
repository: only a course's instructors may, each upload is logged, and the
code runs in workers only, never in the portal's process (which holds the
sessions' secret key).
"""

from __future__ import annotations

import logging
import tempfile
import tomllib
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from grader.archive import SubmissionError
from grader.assignment import AssignmentError, read_manifest
from web.instructor import audit
from worker.assignment_store import NotAnAssignment, unpack_assignment
from worker.config import Settings
from worker.models import AssignmentUpload, utcnow
from worker.storage import store_blob
from worker.submit import Version, register_version
from worker.validation import validation_time_limit

# How a validation job reaches the workers: (upload id, queue, soft time limit in seconds).
SendValidation = Callable[[int, str, float], None]

log = logging.getLogger(__name__)
MAX_ZIP_BYTES = 50 * 1024 * 1024
FOLDER = "assignment-uploads"


class AssignmentRefused(ValueError):
    """The upload is not an assignment folder this course can take; the message says why."""


def _manifest(root: Path) -> dict:  # type: ignore[type-arg]
    """The folder's manifest, checked against the schema (its checks.py is not imported)."""
    try:
        manifest = tomllib.loads((root / "assignment.toml").read_text())
        values = read_manifest(manifest)
    except (AssignmentError, tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise AssignmentRefused(f"the folder is not a valid assignment: {err}") from None
    if not (root / "checks.py").is_file():
        raise AssignmentRefused("the folder is not a valid assignment: it has no checks.py")
    return values | {"raw": manifest}


def receive(
    s: Session, settings: Settings, course_id: int, upload: FileStorage | None, by_user_id: int
) -> AssignmentUpload:
    """Unpack the uploaded folder and read its manifest; a row ``validating`` (commits), or
    AssignmentRefused. The caller sends the validation job (``send_validation``)."""
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
            root = unpack_assignment(archive, home / "folder")
        except (SubmissionError, NotAnAssignment) as err:
            raise AssignmentRefused(str(err)) from None
    manifest = _manifest(root)
    # The archive goes to the database too: workers on other hosts unpack it from there.
    sha256, _ = store_blob(s, data)
    row = AssignmentUpload(
        course_id=course_id,
        slug=manifest["slug"],
        title=manifest["title"] or manifest["slug"],
        path=str(root),
        archive_sha256=sha256,
        status="validating",
        uploaded_by=by_user_id,
        created_at=utcnow(),
    )
    s.add(row)
    s.flush()
    audit.record(s, course_id, by_user_id, "assignment uploaded",
                 f"assignment {manifest['slug']}", {},
                 {"upload": row.id, "version": manifest["version"]})  # fmt: skip
    s.commit()
    return row


def restart(s: Session, upload: AssignmentUpload, by_user_id: int) -> None:
    """Validate an upload again: one whose job was lost (a broker that lost its message: it
    stays ``validating`` with nobody working on it), or an invalid one after a sandbox fault.
    The caller sends the job (``send_validation``) once this is committed."""
    if upload.status not in ("validating", "invalid"):
        raise AssignmentRefused(f"only an upload that is validating or invalid is validated "
                                f"again (this one is {upload.status})")  # fmt: skip
    audit.record(s, upload.course_id, by_user_id, "assignment validated again",
                 f"assignment {upload.slug}", {"status": upload.status},
                 {"upload": upload.id})  # fmt: skip
    upload.status, upload.report, upload.finished_at, upload.facts = "validating", "", None, {}
    s.commit()


def send_validation(
    settings: Settings, send: SendValidation | None, upload: AssignmentUpload
) -> None:
    """Queue the upload's validation for a worker. ``send`` None (no broker) leaves it
    ``validating`` in the database; a broker that does not answer is said in the report,
    and the page's 'Validate again' sends it anew."""
    if send is None:
        return
    manifest = tomllib.loads((Path(upload.path) / "assignment.toml").read_text())
    gpu = manifest.get("queue") == "gpu" and settings.gpu_queue.strip().lower() == "on"
    try:
        send(upload.id, "gpu" if gpu else "cpu", validation_time_limit(manifest))
    except Exception as err:
        log.warning("could not queue the validation of upload %s: %s", upload.id, err)


def publish(
    s: Session, settings: Settings, course_id: int, upload: AssignmentUpload, by_user_id: int
) -> int:
    """Offer a VALID upload in the course (commits); the assignment row's id. Registered from
    the facts its validation job recorded: nothing of the folder is imported here."""
    if upload.status != "valid":
        raise AssignmentRefused(f"only a valid assignment can be published (this one is "
                                f"{upload.status})")  # fmt: skip
    version = Version.from_json(upload.facts)
    upload_id = upload.id
    s.rollback()  # register_version writes on a connection of its own
    assignment_id = register_version(version, settings, course_id)
    row = s.get(AssignmentUpload, upload_id)
    row.status, row.assignment_id = "published", assignment_id
    audit.record(s, course_id, by_user_id, "assignment published", f"assignment {version.slug}",
                 {}, {"upload": upload_id, "version": version.version,
                      "manifest_hash": version.manifest_hash})  # fmt: skip
    s.commit()
    return assignment_id
