"""The database: people, courses, assignments, submissions, grading runs and their reports.

Shared with the portal. Times are naive UTC everywhere (``utcnow``): SQLite has
no time zones, and one convention on both back ends keeps comparisons in SQL
(``lease_expires_at < :now``) meaning the same thing.

The life of one grading (a ``GradeRun``)::

    queued --dispatch--> dispatched --claim--> running --finish--> done   (a GradeReport row)
       ^                     |                    |  \\--fail-----> error  (no report)
       |                     |                    |
       +--- redispatch ------+                    +-- lease expired (reaper) / infrastructure
            (message lost?)                           failure (backoff) --> queued

Exactly-once effect: a run is claimed by a conditional UPDATE that bumps
``attempt``; heartbeats, the finish and releases are all conditional on that
attempt still holding the run (a fencing token), and ``GradeReport.run_id`` is
unique. A worker that lost its lease (paused, cut off from the database, killed)
can never write a second report.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Named constraints, so migrations name them the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JsonDoc = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    """Now, as the naive UTC datetime every column stores."""
    return datetime.now(UTC).replace(tzinfo=None)


def as_utc_naive(when: datetime | None) -> datetime | None:
    """A manifest's deadline (aware or naive-meaning-UTC) in the columns' convention."""
    if when is None or when.tzinfo is None:
        return when
    return when.astimezone(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Role(StrEnum):
    STUDENT = "student"
    TA = "ta"
    INSTRUCTOR = "instructor"


class RunStatus(StrEnum):
    QUEUED = "queued"  # waiting in the database (fairness window full, or backing off)
    DISPATCHED = "dispatched"  # a message for it is in the broker
    RUNNING = "running"  # claimed by a worker that holds a lease
    DONE = "done"  # its GradeReport exists
    ERROR = "error"  # given up (attempts exhausted, assignment broken); no report


IN_FLIGHT = (RunStatus.QUEUED, RunStatus.DISPATCHED, RunStatus.RUNNING)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # werkzeug's scrypt hash; None for a user who cannot sign in to the portal (CLI only).
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # From a course roster (web.instructor.roster): the person's name and university id.
    full_name: Mapped[str] = mapped_column(String(200), default="")
    student_id: Mapped[str | None] = mapped_column(String(64))
    # A site administrator (``dlgrade users admin``): creates courses and their instructors,
    # issues one-time passwords; reads no course's data by being one.
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    # The password is a one-time one (an import's, an instructor's, an administrator's):
    # the portal asks for a new one before anything else.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    # Every signed-in session carries the version it began under; logout and a password
    # change raise it, so every session of the account ends at once (web.access).
    session_version: Mapped[int] = mapped_column(Integer, default=0)


class Course(Base):
    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Enrollment(Base):
    """A user's role in one course: student, ta or instructor."""

    __tablename__ = "enrollments"
    __table_args__ = (
        UniqueConstraint("user_id", "course_id"),
        CheckConstraint("role IN ('student', 'ta', 'instructor')", name="role"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16), default=Role.STUDENT.value)
    section: Mapped[str] = mapped_column(String(80), default="")  # from the roster
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[User] = relationship()
    course: Mapped[Course] = relationship()


class Counts(StrEnum):
    """Which of a student's submissions gives their grade."""

    LATEST = "latest"
    BEST = "best"


class Assignment(Base):
    """One version of an assignment folder in one course, identified by the hash of its
    manifest and checks.

    An assignment belongs to a course: any number of courses offer the same
    built-in or uploaded folder at once, each with rows of its own (its own
    settings, versions, submissions and reports); a slug names one assignment
    within a course. Rows with no course are the command line's (``dlgrade
    submit`` without a portal), one per version of a folder.

    Editing checks.py makes a new row, so every submission records exactly
    which checks it was submitted against. The course's settings (due date,
    late policy, release of hidden checks, which submission counts, queue) are copied
    from the course's previous version when a new one appears (``worker.submit``): the
    staff's choices outlive an edit of the checks.

    Late policy: a submission stored after ``due`` (or the student's
    ``Extension``) plus ``grace_minutes`` is late. Each day or part of a day
    after ``due`` costs ``late_penalty_per_day`` of its score (a fraction), up
    to ``late_penalty_cap`` when set; with ``accept_late`` false it is refused.
    """

    __tablename__ = "assignments"
    __table_args__ = (
        UniqueConstraint("course_id", "slug", "manifest_hash"),
        # NULLs are distinct in a unique constraint: the command line's rows need their own.
        Index(
            "uq_assignments_slug_manifest_hash_no_course",
            "slug",
            "manifest_hash",
            unique=True,
            sqlite_where=text("course_id IS NULL"),
            postgresql_where=text("course_id IS NULL"),
        ),
        CheckConstraint("counts IN ('latest', 'best')", name="counts"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    manifest_hash: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200), default="")
    # Where new runs and regrades go, "cpu" or "gpu" (``worker.routing``): the manifest's
    # when the row is made, then the course's choice.
    queue: Mapped[str] = mapped_column(String(16), default="cpu")
    path: Mapped[str] = mapped_column(Text)
    max_score: Mapped[float] = mapped_column(Float, default=0.0)
    # Celery's soft limit for one grading: the manifest's time limits plus a margin.
    time_limit_s: Mapped[float] = mapped_column(Float, default=600.0)
    due: Mapped[datetime | None] = mapped_column(DateTime)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    summary: Mapped[str] = mapped_column(Text, default="")
    # Hidden checks' names and messages reach students only from this time on (never if None).
    hidden_release: Mapped[datetime | None] = mapped_column(DateTime)
    grace_minutes: Mapped[int] = mapped_column(Integer, default=0)
    late_penalty_per_day: Mapped[float] = mapped_column(Float, default=0.0)
    late_penalty_cap: Mapped[float | None] = mapped_column(Float)
    accept_late: Mapped[bool] = mapped_column(Boolean, default=True)
    counts: Mapped[str] = mapped_column(String(8), default=Counts.LATEST.value)
    # The course's submission rate limit, "COUNT/SECONDS"; None: the manifest's, else the setting.
    rate_limit: Mapped[str | None] = mapped_column(String(40))
    # The course's cap on a student's submissions of it waiting or grading at once (None: none
    # beyond the portal-wide DLGRADE_MAX_IN_FLIGHT).
    max_in_flight: Mapped[int | None] = mapped_column(Integer)


class SubmissionBlob(Base):
    """The bytes of uploads, content-addressed: the same bytes handed in twice are kept once.

    In the database rather than on a disk of the portal's host, so that a worker on any
    host reads them with the run it claimed (no shared file system), a backup of the
    database is a backup of the submissions, and a submission's row and its bytes are
    committed together (neither can exist without the other). Uploads are capped
    (``DLGRADE_MAX_UPLOAD_BYTES``, 50 MB) well below PostgreSQL's 1 GB per value.
    """

    __tablename__ = "submission_blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Submission(Base):
    """What a student handed in: immutable once written (the bytes are a ``SubmissionBlob``)."""

    __tablename__ = "submissions"
    __table_args__ = (Index("ix_submissions_user_assignment", "user_id", "assignment_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    filename: Mapped[str] = mapped_column(String(255))
    submitted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    # Computed once, when the upload was stored, from the policy then in force.
    seconds_late: Mapped[int] = mapped_column(Integer, default=0)
    late_penalty: Mapped[float] = mapped_column(Float, default=0.0)  # fraction of the score

    assignment: Mapped[Assignment] = relationship()
    user: Mapped[User] = relationship()


@event.listens_for(Submission, "before_update")
def _submissions_are_immutable(mapper: Any, connection: Any, target: Submission) -> None:
    raise ValueError(f"submission {target.id} is immutable; grade it again instead")


class GradeRun(Base):
    """One request to grade a submission (the first grading, or a regrade later)."""

    __tablename__ = "grade_runs"
    __table_args__ = (
        Index("ix_grade_runs_status_lease", "status", "lease_expires_at"),
        Index("ix_grade_runs_user_queue_status", "user_id", "queue", "status"),
        CheckConstraint(
            "status IN ('queued', 'dispatched', 'running', 'done', 'error')", name="status"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    # The submitter, copied here so fairness queries need no join.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    queue: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=RunStatus.QUEUED.value)
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime)
    not_before: Mapped[datetime | None] = mapped_column(DateTime)
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    progress: Mapped[str] = mapped_column(String(200), default="")
    error: Mapped[str] = mapped_column(Text, default="")
    # A regrade asked for by staff (None: the student's own submission), and the batch
    # it belongs to when a whole assignment was regraded at once.
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    batch: Mapped[str | None] = mapped_column(String(40), index=True)

    submission: Mapped[Submission] = relationship()


class GradeReport(Base):
    """The engine's report of one run (``GradeReport.to_dict()``); at most one per run."""

    __tablename__ = "grade_reports"
    __table_args__ = (
        # The newest report's score and status, read from the index alone: a row holds
        # the report's JSON (a page or more), which the staff gradebook never needs.
        Index("ix_grade_reports_submission_newest", "submission_id", "id", "score", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("grade_runs.id"), unique=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    score: Mapped[float] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float)
    report: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    manifest_hash: Mapped[str] = mapped_column(String(64))
    worker: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Extension(Base):
    """A student's own due date for one assignment of a course (every version of it)."""

    __tablename__ = "extensions"
    __table_args__ = (UniqueConstraint("course_id", "assignment_slug", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    assignment_slug: Mapped[str] = mapped_column(String(120))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    due: Mapped[datetime] = mapped_column(DateTime)
    granted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ScoreOverride(Base):
    """A staff member's score for a submission, and the audit log of every change.

    Rows are only ever added: the newest one for a submission is in force, the
    older ones are its history. It belongs to the submission, not to a run, so
    it survives regrades. ``score`` is the final score (the late penalty is not
    applied on top of it).
    """

    __tablename__ = "score_overrides"
    __table_args__ = (CheckConstraint("length(comment) > 0", name="comment"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    original_score: Mapped[float | None] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)
    by_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    comment: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class LoginAttempt(Base):
    """Portal sign-ins, kept to rate-limit guessing across every web process."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_name_at", "name", "at"),
        Index("ix_login_attempts_remote_at", "remote", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    remote: Mapped[str] = mapped_column(String(64))
    ok: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ApiToken(Base):
    """A personal API token (``Authorization: Bearer``): only its sha256 is stored.

    ``scope`` caps what the token may do whatever its owner's roles: ``student``
    (their own courses, submissions and reports) or ``staff`` (also the staff
    routes of the courses where the owner is a TA or instructor). A revoked
    token is kept (``revoked_at``) so the page can show when it stopped working.
    """

    __tablename__ = "api_tokens"
    __table_args__ = (CheckConstraint("scope IN ('student', 'staff')", name="scope"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # the first characters, to tell tokens apart
    scope: Mapped[str] = mapped_column(String(16), default="student")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class CourseAudit(Base):
    """A change an instructor or TA made to a course's settings or roster (rows only added).

    Score overrides have their own log (``ScoreOverride``); this one holds the
    rest: assignment settings, extensions, roster imports, course creation.
    ``before`` and ``after`` are the changed fields' values (JSON, times as ISO).
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_course_at", "course_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    by_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(200), default="")
    before: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    after: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class AssignmentUpload(Base):
    """An assignment folder an instructor uploaded (.zip), its validation and publication.

    ``validating`` until ``dlgrade assignment validate``'s checks have run (a job
    of the workers, ``worker.validation``: the portal never imports an uploaded
    checks.py), then ``valid`` or ``invalid`` with the report; only a valid one
    becomes ``published`` (an ``Assignment`` row of the course), from ``facts``,
    what the job learned of the version (``worker.submit.Version``). The unpacked
    folder stays at ``path`` on the portal's host; the .zip itself is a blob
    (``archive_sha256``), from which a worker elsewhere unpacks its own copy
    (``worker.assignment_store``).
    """

    __tablename__ = "assignment_uploads"
    __table_args__ = (
        CheckConstraint("status IN ('validating', 'valid', 'invalid', 'published')", name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(200), default="")
    path: Mapped[str] = mapped_column(Text)
    archive_sha256: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="validating")
    report: Mapped[str] = mapped_column(Text, default="")
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id"))
    facts: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
