"""The schema: migrations build exactly the models, on SQLite and PostgreSQL; constraints hold."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import insert, inspect, text, update
from sqlalchemy.exc import IntegrityError

from tests.worker.conftest import empty_postgres
from worker.config import Settings
from worker.db import get_engine
from worker.migrate import SchemaOutOfDate, alembic_config, current, ensure_schema, head
from worker.models import (
    Assignment,
    Base,
    Course,
    Enrollment,
    GradeRun,
    Role,
    Submission,
    User,
)
from worker.runs import GradeQueue

TABLES = {
    "users",
    "courses",
    "enrollments",
    "assignments",
    "submissions",
    "grade_runs",
    "grade_reports",
}


def _migrate(url: str, revision: str, *, down: bool = False) -> None:
    cfg = alembic_config()
    with get_engine(url).begin() as conn:
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, revision)


def test_migrations_build_exactly_the_models(db_url: str) -> None:
    engine = get_engine(db_url)
    assert current(engine) == head()
    assert set(inspect(engine).get_table_names()) >= TABLES
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_downgrade_to_nothing_and_back(db_url: str) -> None:
    engine = get_engine(db_url)
    _migrate(db_url, "base", down=True)
    assert not TABLES & set(inspect(engine).get_table_names())
    assert current(engine) is None
    ensure_schema(db_url)  # an empty database is created on first use
    assert current(engine) == head()
    assert set(inspect(engine).get_table_names()) >= TABLES


def test_unversioned_server_tables_are_refused(postgres_base: str) -> None:
    """PostgreSQL is shared: tables of an unknown revision are an operator's to migrate."""
    db_url = postgres_base
    _stamp(db_url, "base")
    try:
        with pytest.raises(SchemaOutOfDate, match="dlgrade db upgrade"):
            ensure_schema(db_url)
    finally:
        _stamp(db_url, "head")  # the session's database goes back as it was
    ensure_schema(db_url)


def _stamp(url: str, revision: str) -> None:
    cfg = alembic_config()
    with get_engine(url).begin() as conn:
        cfg.attributes["connection"] = conn
        command.stamp(cfg, revision)


def _settings(db_url: str, tmp_path) -> Settings:
    return Settings(database_url=db_url, broker_url="memory://", data_dir=tmp_path)


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_enrollment_roles(db_url: str, tmp_path, role: str) -> None:
    q = GradeQueue(_settings(db_url, tmp_path))
    with q.Session() as s, s.begin():
        user, course = User(name="u"), Course(slug="dl101", title="Deep learning")
        s.add_all([user, course])
        s.flush()
        s.add(Enrollment(user_id=user.id, course_id=course.id, role=role))
    with pytest.raises(IntegrityError), q.Session() as s, s.begin():
        s.add(Enrollment(user_id=user.id, course_id=course.id, role=role))  # one role per course


@pytest.mark.parametrize(
    ("model", "field", "good", "bad"),
    [(Enrollment, "role", "ta", "superuser"), (GradeRun, "status", "running", "half-done")],
)
def test_enumerated_columns_refuse_unknown_values(
    db_url: str, tmp_path, model, field, good, bad
) -> None:
    q = GradeQueue(_settings(db_url, tmp_path))
    with q.Session() as s, s.begin():
        user, course = User(name="u"), Course(slug="dl101")
        s.add_all([user, course])
        s.flush()
        a = Assignment(slug="a", manifest_hash="h", path="/a", queue="cpu")
        s.add(a)
        s.flush()
        sub = Submission(
            assignment_id=a.id, user_id=user.id, sha256="0" * 64, size=1, filename="a.py"
        )
        s.add(sub)
        s.flush()
        rows = {
            Enrollment: Enrollment(user_id=user.id, course_id=course.id),
            GradeRun: GradeRun(submission_id=sub.id, user_id=user.id, queue="cpu"),
        }
        row = rows[model]
        s.add(row)
    table = model.__table__
    with q.Session() as s, s.begin():  # the control: a known value is accepted
        s.execute(update(table).where(table.c.id == row.id).values({field: good}))
    with pytest.raises(IntegrityError), q.Session() as s, s.begin():
        s.execute(update(table).where(table.c.id == row.id).values({field: bad}))


def test_0010_keeps_every_row_and_lets_each_course_have_its_own_versions(db_url: str) -> None:
    """Data written under 0009 (one course offering a version, the command line another)
    comes through unchanged; from then on a second course may hold the same version, and
    the command line's rows stay one per version."""
    engine = get_engine(db_url)
    _migrate(db_url, "0009", down=True)
    try:
        with engine.begin() as conn:  # the columns are 0009's: only the keys changed since
            conn.execute(insert(User).values(id=1, name="ann"))
            conn.execute(
                insert(Course).values([{"id": 1, "slug": "dl1"}, {"id": 2, "slug": "dl2"}])
            )
            for id_, course in ((1, 1), (2, None)):
                conn.execute(
                    insert(Assignment).values(
                        id=id_, slug=f"act{id_}", manifest_hash="h", path="/a", queue="cpu",
                        course_id=course, late_penalty_per_day=0.1, counts="best",
                    )
                )  # fmt: skip
            conn.execute(
                insert(Submission).values(
                    id=1, assignment_id=1, user_id=1, sha256="s", size=3, filename="a.py"
                )
            )
            before = conn.execute(text("SELECT * FROM assignments ORDER BY id")).all()
        _migrate(db_url, "head")
        with engine.begin() as conn:
            assert conn.execute(text("SELECT * FROM assignments ORDER BY id")).all() == before
            assert conn.execute(text("SELECT assignment_id FROM submissions")).all() == [(1,)]
        with engine.begin() as conn:  # course 2 offers course 1's version: a row of its own
            conn.execute(
                insert(Assignment).values(
                    id=3, slug="act1", manifest_hash="h", path="/a", queue="cpu", course_id=2
                )
            )
        with pytest.raises(IntegrityError), engine.begin() as conn:  # twice in one course
            conn.execute(
                insert(Assignment).values(
                    id=4, slug="act1", manifest_hash="h", path="/a", queue="cpu", course_id=2
                )
            )
        with pytest.raises(IntegrityError), engine.begin() as conn:  # the command line's twice
            conn.execute(
                insert(Assignment).values(
                    id=5, slug="act2", manifest_hash="h", path="/a", queue="cpu"
                )
            )
    finally:
        if "postgresql" in db_url:
            empty_postgres(db_url)
        ensure_schema(db_url)
