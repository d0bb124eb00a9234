"""Accept a submission: admission limits, content-addressed storage, rows, dispatch.

Order matters for "never lose a submission": the bytes are on disk (fsynced)
before the row that names them commits, and the row commits before any message
is sent. If the broker is down the run simply waits in the database as queued;
any worker's reaper dispatches it later.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, Row, and_, case, func, insert, select
from sqlalchemy.exc import IntegrityError

from grader.assignment import Assignment as AssignmentSpec
from grader.assignment import Folder
from grader.session import WALL_BACKSTOP_FACTOR
from worker.config import Settings, parse_rate
from worker.db import get_engine
from worker.late import Lateness, LatePolicy, assess
from worker.models import (
    IN_FLIGHT,
    Assignment,
    Extension,
    GradeRun,
    RunStatus,
    Submission,
    User,
    as_utc_naive,
    utcnow,
)
from worker.routing import gpu_workers, route
from worker.runs import GradeQueue, Publish
from worker.storage import read_upload, store_blob

log = logging.getLogger(__name__)


class SubmissionRefused(Exception):
    """A limit said no (too many in flight, too many too fast); the message is for the student."""

    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class Accepted:
    submission_id: int
    run_id: int
    sha256: str
    size: int
    filename: str
    late: bool
    queue: str
    dispatched: bool
    note: str = ""


@dataclass(frozen=True)
class Version:
    """What the database records of one version of an assignment folder: plain data, so the
    portal can offer a version that a worker validated without importing its checks."""

    slug: str
    version: int
    manifest_hash: str
    title: str
    path: str
    max_score: float
    time_limit_s: float
    queue: str
    summary: str
    due: datetime | None = None
    hidden_release: datetime | None = None
    counts: str | None = None

    def to_json(self) -> dict[str, object]:
        out = asdict(self)
        for key in ("due", "hidden_release"):
            out[key] = None if out[key] is None else out[key].isoformat()
        return out

    @classmethod
    def from_json(cls, doc: dict[str, object]) -> Version:
        values = {f.name: doc[f.name] for f in fields(cls) if f.name in doc}
        for key in ("due", "hidden_release"):
            values[key] = None if values[key] is None else datetime.fromisoformat(str(values[key]))
        return cls(**values)  # type: ignore[arg-type]


def version_of(spec: AssignmentSpec, settings: Settings) -> Version:
    """The version record of a loaded folder (its checks imported: a worker's or the CLI's)."""
    counts = spec.manifest.get("submission", {}).get("counts")
    return Version(
        slug=spec.slug,
        version=spec.version,
        manifest_hash=spec.manifest_hash,
        title=spec.title,
        path=str(spec.root),
        max_score=spec.max_score,
        time_limit_s=soft_time_limit(spec, settings.time_limit_margin),
        queue=spec.queue,
        summary=spec.summary,
        due=as_utc_naive(spec.due),
        hidden_release=as_utc_naive(spec.hidden_release),
        counts=counts if counts in ("latest", "best") else None,
    )


def soft_time_limit(spec: AssignmentSpec, margin_s: float) -> float:
    """Celery's soft limit for one grading: everything the sandbox may take, plus a margin.

    The larger of the CPU and GPU limits: a GPU assignment's runs may go either way.
    The limits are CPU time; on a busy host a grading may take up to the wall-clock
    backstop's multiple of them (grader/session.py) and still be graded.
    """
    worst = max(sum(spec.time_limits(gpu)[:2]) for gpu in (False, True))
    return float(worst * WALL_BACKSTOP_FACTOR + margin_s)


def _get_or_create_user(conn: Connection, name: str) -> int:
    user_id = conn.scalar(select(User.id).where(User.name == name))
    if user_id is not None:
        return int(user_id)
    try:
        with conn.begin_nested():
            return int(conn.scalar(insert(User).values(name=name).returning(User.id)))
    except IntegrityError:
        user_id = conn.scalar(select(User.id).where(User.name == name))
        assert user_id is not None
        return int(user_id)


# The columns submit reads back: where to queue it and the late policy in force.
_ASSIGNMENT_COLUMNS = (
    Assignment.id,
    Assignment.queue,
    Assignment.due,
    Assignment.course_id,
    Assignment.grace_minutes,
    Assignment.late_penalty_per_day,
    Assignment.late_penalty_cap,
    Assignment.accept_late,
)
# A course's settings for an assignment, which a new version of its checks inherits.
COURSE_SETTINGS = (
    "course_id",
    "queue",
    "due",
    "summary",
    "hidden_release",
    "grace_minutes",
    "late_penalty_per_day",
    "late_penalty_cap",
    "accept_late",
    "counts",
    "rate_limit",
    "max_in_flight",
)


def in_course(course_id: int | None):  # type: ignore[no-untyped-def]
    """The rows of one course (None: the command line's rows, which belong to none)."""
    if course_id is None:
        return Assignment.course_id.is_(None)
    return Assignment.course_id == course_id


def _get_or_create_assignment(conn: Connection, version: Version, course_id: int | None) -> Row:
    """The course's row for this version of its checks (see ``_ASSIGNMENT_COLUMNS``).

    Each course has rows of its own: another course offering the same folder
    never shares, moves or reads them. A new version takes the settings of the
    course's newest earlier version of the same slug, so editing the checks
    keeps the due date and late policy that the staff chose; otherwise (a first
    version in this course, or the command line's) the manifest's.
    """
    find = select(*_ASSIGNMENT_COLUMNS).where(
        in_course(course_id),
        Assignment.slug == version.slug,
        Assignment.manifest_hash == version.manifest_hash,
    )
    row = conn.execute(find).first()
    if row is not None:
        return row
    values: dict[str, object] = {
        "course_id": course_id,
        "queue": version.queue,
        "due": version.due,
        "summary": version.summary,
        "hidden_release": version.hidden_release,
    }
    if version.counts is not None:
        values["counts"] = version.counts
    if course_id is not None:
        previous = conn.execute(
            select(*(getattr(Assignment, name) for name in COURSE_SETTINGS))
            .where(in_course(course_id), Assignment.slug == version.slug)
            .order_by(Assignment.id.desc())
            .limit(1)
        ).first()
        if previous is not None:
            # The course offers it already: the staff's settings win over the edited manifest's.
            values.update(previous._asdict())
    try:
        with conn.begin_nested():
            return conn.execute(
                insert(Assignment)
                .values(
                    slug=version.slug,
                    version=version.version,
                    manifest_hash=version.manifest_hash,
                    title=version.title,
                    path=version.path,
                    max_score=version.max_score,
                    time_limit_s=version.time_limit_s,
                    **values,
                )
                .returning(*_ASSIGNMENT_COLUMNS)
            ).one()
    except IntegrityError:
        return conn.execute(find).one()


def register_version(version: Version, settings: Settings, course_id: int | None) -> int:
    """The id of ``course_id``'s row for ``version`` (created if new).

    How a course offers an assignment before anyone submits (the portal, the demo).
    Other courses' rows of the same folder are neither read nor changed.
    """
    with get_engine(settings.database_url).begin() as conn:
        row = _get_or_create_assignment(conn, version, course_id)
    return int(row.id)


def register_assignment(spec: AssignmentSpec, settings: Settings, course_id: int | None) -> int:
    """``register_version`` of a loaded folder."""
    return register_version(version_of(spec, settings), settings, course_id)


def lateness_of(
    conn: Connection, assignment: Row, slug: str, user_id: int, now: datetime
) -> Lateness:
    """The late policy's verdict on a submission stored ``now`` (extensions included)."""
    extension = None
    if assignment.course_id is not None:
        extension = conn.scalar(
            select(Extension.due).where(
                Extension.course_id == assignment.course_id,
                Extension.assignment_slug == slug,
                Extension.user_id == user_id,
            )
        )
    policy = LatePolicy(
        due=assignment.due,
        grace_minutes=assignment.grace_minutes,
        penalty_per_day=assignment.late_penalty_per_day,
        penalty_cap=assignment.late_penalty_cap,
        accept_late=assignment.accept_late,
    )
    return assess(policy, now, extension)


def rate_limit_for(
    spec: AssignmentSpec | Folder, settings: Settings, course_rate: str | None = None
) -> tuple[int, float]:
    """The course's rate limit for the assignment (``Assignment.rate_limit``), else the
    manifest's ``[submission] rate_limit`` ("COUNT/SECONDS"), else the setting."""
    own = spec.manifest.get("submission", {}).get("rate_limit")
    return parse_rate(str(course_rate or own or settings.rate_limit))


def _admit(
    conn: Connection,
    user_id: int,
    student: str,
    spec: AssignmentSpec | Folder,
    settings: Settings,
    now: datetime,
    queue: str,
    course_id: int | None,
    size: int,
) -> int:
    """Refuse (SubmissionRefused) past a limit; else how many of the student's runs on
    ``queue`` (the run's) are in the broker or running (their fairness window).

    Runs before anything is stored (``submit``), so a refused upload leaves nothing
    stored. The course's limits count this course's submissions of the assignment
    only; the in-flight cap and the storage quota count everything the student has.
    """
    busy_here = and_(
        GradeRun.queue == queue,
        GradeRun.status.in_([RunStatus.DISPATCHED.value, RunStatus.RUNNING.value]),
    )
    in_flight, busy = conn.execute(
        select(func.count(), func.coalesce(func.sum(case((busy_here, 1), else_=0)), 0)).where(
            GradeRun.user_id == user_id, GradeRun.status.in_([x.value for x in IN_FLIGHT])
        )
    ).one()
    if int(in_flight or 0) >= settings.max_in_flight:
        raise SubmissionRefused(
            f"{student} already has {in_flight} submissions waiting to be graded "
            f"(at most {settings.max_in_flight}); submit again when some are graded"
        )
    stored = int(
        conn.scalar(
            select(func.coalesce(func.sum(Submission.size), 0)).where(Submission.user_id == user_id)
        )
        or 0
    )
    if stored + size > settings.student_quota_bytes:
        raise SubmissionRefused(
            f"{student}'s submissions already take {_mb(stored)} of the "
            f"{_mb(settings.student_quota_bytes)} each student may store, and this upload "
            f"({_mb(size)}) would go past it; ask the course staff"
        )
    course_rate, course_cap = (None, None)
    if course_id is not None:
        course_rate, course_cap = conn.execute(
            select(Assignment.rate_limit, Assignment.max_in_flight)
            .where(in_course(course_id), Assignment.slug == spec.slug)
            .order_by(Assignment.id.desc())
            .limit(1)
        ).first() or (None, None)
    if course_cap is not None:
        # The course's cap for this assignment, on top of the portal-wide one above.
        here = conn.scalar(
            select(func.count())
            .select_from(GradeRun)
            .join(Submission, Submission.id == GradeRun.submission_id)
            .join(Assignment, Assignment.id == Submission.assignment_id)
            .where(
                GradeRun.user_id == user_id,
                GradeRun.status.in_([x.value for x in IN_FLIGHT]),
                in_course(course_id),
                Assignment.slug == spec.slug,
            )
        )
        if int(here or 0) >= course_cap:
            raise SubmissionRefused(
                f"{student} already has {here} submissions of {spec.slug} waiting to be graded "
                f"(at most {course_cap}); submit again when some are graded"
            )
    count, window = rate_limit_for(spec, settings, course_rate)
    since = now - timedelta(seconds=window)
    recent = conn.execute(
        select(Submission.submitted_at)
        .join(Assignment, Assignment.id == Submission.assignment_id)
        .where(
            Submission.user_id == user_id,
            in_course(course_id),
            Assignment.slug == spec.slug,
            Submission.submitted_at > since,
        )
        .order_by(Submission.submitted_at)
    ).all()
    if len(recent) >= count:
        oldest = recent[-count][0]
        wait = max(1.0, (oldest + timedelta(seconds=window) - now).total_seconds())
        raise SubmissionRefused(
            f"{student} submitted {spec.slug} {len(recent)} times in the last "
            f"{window:g}s (at most {count}); try again in {wait:.0f}s",
            retry_after_s=wait,
        )
    return int(busy or 0)


def _mb(n: int) -> str:
    return f"{n / 2**20:.1f} MB"


def submit(
    spec: AssignmentSpec | Folder,
    upload: str | Path,
    student: str,
    settings: Settings,
    publish: Publish | None,
    course_id: int | None = None,
    version: Version | None = None,
) -> Accepted:
    """Store ``upload`` for ``student`` in ``course_id``'s assignment (None: the command
    line's, in no course), record it, and dispatch it if the student has room.

    Admission first, storage second: a refused upload (a limit, the quota, a late
    one not accepted) writes nothing; the bytes are stored in the transaction that
    records the submission. Raises SubmissionRefused (a limit),
    storage.UploadTooLarge, or FileNotFoundError. ``publish`` None records the run as
    queued without contacting the broker. ``version``: the version's record where the
    caller has it (the portal, from the course's row: ``spec`` is then the folder's
    manifest alone, its checks never imported); else made from the loaded ``spec``.
    """
    gpu_workers(settings)  # before anything is stored: a bad setting refuses early
    data, filename = read_upload(Path(upload), settings.max_upload_bytes)
    grade_queue = GradeQueue(settings)
    now = utcnow()
    with grade_queue.engine.begin() as conn:
        user_id = _get_or_create_user(conn, student)
        grade_queue._lock_user(conn, user_id)
        if version is None:
            assert isinstance(spec, AssignmentSpec), "a folder's manifest alone needs its version"
            version = version_of(spec, settings)
        assignment = _get_or_create_assignment(conn, version, course_id)
        # The course's queue for it (its settings), else the manifest's: a new row's.
        routed = route(spec, settings, queue=assignment.queue)
        busy = _admit(
            conn, user_id, student, spec, settings, now, routed.queue, course_id, len(data)
        )
        lateness = lateness_of(conn, assignment, spec.slug, user_id, now)
        if lateness.refused:
            raise SubmissionRefused(
                f"{spec.slug} was due {assignment.due:%Y-%m-%d %H:%M} UTC and late submissions "
                "are not accepted"
            )
        late = lateness.late
        # Admitted, and in this transaction: a refused or failed submission leaves no bytes.
        sha, size = store_blob(conn, data)
        sub_id = conn.scalar(
            insert(Submission)
            .values(
                assignment_id=assignment.id,
                user_id=user_id,
                sha256=sha,
                size=size,
                filename=filename[:255],
                submitted_at=now,
                late=late,
                seconds_late=lateness.seconds_late,
                late_penalty=lateness.penalty,
            )
            .returning(Submission.id)
        )
        run_id = conn.scalar(
            insert(GradeRun)
            .values(
                submission_id=sub_id,
                user_id=user_id,
                queue=routed.queue,
                status=RunStatus.QUEUED.value,
                created_at=now,
            )
            .returning(GradeRun.id)
        )
    queue = routed.queue
    dispatched, note = False, ""
    if publish is None:
        note = "queued; not dispatched (no broker)"
    elif busy >= settings.dispatch_per_student:
        # Seen under the student's lock: their window was full, and whatever empties it
        # (a finish, a release, the reaper) dispatches after this commit, under that lock.
        note = "queued behind this student's earlier submissions"
    else:
        try:
            dispatched = run_id in grade_queue.dispatch(user_id, queue, publish)
            if not dispatched:
                note = "queued behind this student's earlier submissions"
        except Exception as err:
            log.warning("could not dispatch run %s now: %s", run_id, err)
            note = (
                f"queued; the broker did not answer ({type(err).__name__}), a worker will send it"
            )
    note = "; ".join(n for n in (routed.note, note) if n)
    log.info(
        "submission %s of %s by %s stored (%s bytes), run %s on %s%s",
        sub_id, spec.slug, student, size, run_id, queue, "" if dispatched else f": {note}",
        extra={"submission_id": sub_id, "run_id": run_id},
    )  # fmt: skip
    return Accepted(sub_id, run_id, sha, size, filename, late, queue, dispatched, note)
