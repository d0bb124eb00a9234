"""Roster import: a Canvas or university CSV export turned into enrolments, with a preview.

Columns are found by their header, whatever the export calls them (``COLUMNS``):
login (or email when there is no login column), email, name, student id,
section and role. Canvas's own ``Points Possible`` row is skipped.

``plan`` says what an import would change and changes nothing; ``apply``
carries a plan out (the caller commits). Importing the same file twice changes
nothing the second time:

- a person is matched by student id first (a changed login or email is then an
  update of the same account), else by login; the preview says which existing
  account each row enrols, and how it was matched;
- an account belongs to its owner: an import changes the login, name, email or
  student id only of an account enrolled in this course and nowhere else (nor a
  site administrator's). One enrolled in another course is enrolled here as it
  is (the preview says so), and no import ever changes a password or a role
  outside its own course;
- a row repeated exactly counts once; two rows for one login (or one student
  id) that disagree are an error, and a plan with errors cannot be applied;
- a student of the course missing from the file is dropped when the import
  says so: the enrolment goes, the person's submissions, reports and
  overrides stay (they come back if the student is enrolled again). Staff are
  never dropped by an import, and nobody changes their own role by one.
- A new account gets a one-time password, shown once to the instructor and
  changed by its owner at the first sign-in.
"""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from worker.models import Enrollment, Role, User

MAX_ROWS = 5000
COLUMNS = {
    "login": ("login", "login id", "sis login id", "username", "user name", "user"),
    "email": ("email", "e-mail", "email address", "mail"),
    "name": ("name", "student", "full name", "student name", "display name"),
    "student_id": ("student id", "student_id", "sis user id", "id number", "student number"),
    "section": ("section", "sections", "section name"),
    "role": ("role", "type", "enrollment type"),
}
ROLES = {
    "": Role.STUDENT.value,
    "student": Role.STUDENT.value,
    "studentenrollment": Role.STUDENT.value,
    "ta": Role.TA.value,
    "teaching assistant": Role.TA.value,
    "taenrollment": Role.TA.value,
    "instructor": Role.INSTRUCTOR.value,
    "teacher": Role.INSTRUCTOR.value,
    "teacherenrollment": Role.INSTRUCTOR.value,
}


KEPT = "enrolled in another course: its login, name, email and student id stay as they are"


class RosterRefused(ValueError):
    """The file cannot be read as a roster; the message says why."""


@dataclass(frozen=True)
class Person:
    """One row of the roster, cleaned."""

    line: int
    login: str
    email: str
    name: str
    student_id: str
    section: str
    role: str


@dataclass
class Change:
    kind: str  # add | update | drop | same | error
    login: str
    detail: str = ""
    person: Person | None = None
    user_id: int | None = None
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # field -> (before, after)


@dataclass
class Plan:
    changes: list[Change]
    drop_missing: bool

    def of(self, kind: str) -> list[Change]:
        return [c for c in self.changes if c.kind == kind]

    @property
    def ok(self) -> bool:
        return not self.of("error")

    def counts(self) -> dict[str, int]:
        return {k: len(self.of(k)) for k in ("add", "update", "drop", "same", "error")}


def _header_map(header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for i, raw in enumerate(header):
        key = raw.strip().lstrip("\ufeff").lower()
        for column, names in COLUMNS.items():
            if key in names and column not in found:
                found[column] = i
    return found


def parse_roster(text: str) -> tuple[list[Person], list[Change]]:
    """The file's people, and an error per row that cannot be used."""
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as err:
        raise RosterRefused(f"not a CSV file ({err})") from None
    if not rows:
        raise RosterRefused("the file is empty")
    where = _header_map(rows[0])
    if "login" not in where and "email" not in where:
        raise RosterRefused(
            "no login or email column (the header names one of: "
            + ", ".join(COLUMNS["login"] + COLUMNS["email"])
            + ")"
        )
    if len(rows) > MAX_ROWS + 1:
        raise RosterRefused(f"more than {MAX_ROWS} rows")

    def cell(row: list[str], column: str) -> str:
        i = where.get(column)
        return row[i].strip() if i is not None and i < len(row) else ""

    people, errors = [], []
    for line, row in enumerate(rows[1:], start=2):
        if not any(v.strip() for v in row) or cell(row, "name").startswith("Points Possible"):
            continue
        email = cell(row, "email")
        login = cell(row, "login") or email
        raw_role = cell(row, "role").lower()
        if not login:
            errors.append(Change("error", f"line {line}", "no login or email"))
        elif len(login) > 120 or any(ord(ch) < 32 for ch in login):
            errors.append(Change("error", login[:40], f"line {line}: not a usable login"))
        elif raw_role not in ROLES:
            errors.append(Change("error", login, f"line {line}: unknown role {raw_role!r}"))
        else:
            people.append(
                Person(
                    line,
                    login,
                    email[:254],
                    cell(row, "name")[:200],
                    cell(row, "student_id")[:64],
                    cell(row, "section")[:80],
                    ROLES[raw_role],
                )
            )
    return people, errors


def _dedupe(people: list[Person]) -> tuple[list[Person], list[Change]]:
    """Exact repeats count once; rows that disagree about one login or student id are errors."""
    kept: dict[str, Person] = {}
    by_id: dict[str, str] = {}
    errors = []
    for p in people:
        seen = kept.get(p.login)
        if seen is not None:
            if (seen.email, seen.name, seen.student_id, seen.section, seen.role) != (
                p.email, p.name, p.student_id, p.section, p.role,
            ):  # fmt: skip
                errors.append(Change("error", p.login, f"lines {seen.line} and {p.line} disagree"))
            continue
        if p.student_id and by_id.get(p.student_id, p.login) != p.login:
            errors.append(
                Change(
                    "error",
                    p.login,
                    f"line {p.line}: student id {p.student_id} is also {by_id[p.student_id]}'s",
                )
            )
            continue
        if p.student_id:
            by_id[p.student_id] = p.login
        kept[p.login] = p
    bad = {e.login for e in errors}
    return [p for p in kept.values() if p.login not in bad], errors


def plan(
    s: Session, course_id: int, text: str, by_user_id: int, *, drop_missing: bool = True
) -> Plan:
    """What importing ``text`` would change in the course (changes nothing)."""
    people, errors = parse_roster(text)
    people, dupes = _dedupe(people)
    errors += dupes
    enrolled = {
        e.user_id: e for e in s.scalars(select(Enrollment).where(Enrollment.course_id == course_id))
    }
    # Accounts with a role in another course: theirs and that course's, not this one's to edit.
    elsewhere = set(
        s.scalars(select(Enrollment.user_id).where(Enrollment.course_id != course_id).distinct())
    )
    changes: list[Change] = []
    matched: set[int] = set()
    for p in people:
        user = None
        if p.student_id:
            user = s.scalar(select(User).where(User.student_id == p.student_id))
        if user is None:
            user = s.scalar(select(User).where(User.name == p.login))
            if user is not None and user.student_id and p.student_id:
                errors.append(
                    Change(
                        "error",
                        p.login,
                        f"line {p.line}: {p.login} has student id {user.student_id}, "
                        f"the file says {p.student_id}",
                    )
                )
                continue
        if user is not None and user.name != p.login:
            taken = s.scalar(select(User.id).where(User.name == p.login))
            if taken is not None:
                errors.append(
                    Change("error", p.login, f"line {p.line}: the login is another person's")
                )
                continue
        if user is None:
            changes.append(Change("add", p.login, "new account", p))
            continue
        matched.add(user.id)
        shared = user.is_admin or user.id in elsewhere
        enrolment = enrolled.get(user.id)
        if enrolment is None:
            how = (
                "by student id" if p.student_id and user.student_id == p.student_id else "by login"
            )
            detail = f"existing account {user.name}, matched {how}"
            if shared:
                detail += "; " + KEPT
            changes.append(Change("add", p.login, detail, p, user.id))
            continue
        diff: dict[str, tuple[Any, Any]] = {}
        identity = (
            ("login", user.name, p.login),
            ("email", user.email or "", p.email or user.email or ""),
            ("name", user.full_name, p.name or user.full_name),
            ("student_id", user.student_id or "", p.student_id or user.student_id or ""),
        )
        kept = shared and any(before != after for _, before, after in identity)
        for name, before, after in (
            *(() if shared else identity),
            ("section", enrolment.section, p.section),
            ("role", enrolment.role, p.role),
        ):
            if before != after:
                diff[name] = (before, after)
        if "role" in diff and user.id == by_user_id:
            errors.append(Change("error", p.login, "nobody changes their own role by an import"))
            continue
        kind = "update" if diff else "same"
        changes.append(Change(kind, p.login, KEPT if kept else "", p, user.id, diff))
    if drop_missing:
        for user_id, e in enrolled.items():
            if user_id not in matched and e.role == Role.STUDENT.value:
                name = s.scalar(select(User.name).where(User.id == user_id)) or "?"
                changes.append(Change("drop", name, "not in the file", None, user_id))
    return Plan(errors + changes, drop_missing)


def apply(
    s: Session, course_id: int, the_plan: Plan, hasher: Callable[[str], str]
) -> dict[str, str]:
    """Carry out ``the_plan`` (no commit); the initial password of each new account."""
    if not the_plan.ok:
        raise RosterRefused("the file has errors; fix them and preview again")
    passwords: dict[str, str] = {}
    for c in the_plan.changes:
        p = c.person
        if c.kind == "add" and p is not None:
            user_id = c.user_id
            if user_id is None:
                password = secrets.token_urlsafe(9)
                user = User(
                    name=p.login,
                    email=p.email or None,
                    full_name=p.name,
                    student_id=p.student_id or None,
                    password_hash=hasher(password),
                    must_change_password=True,
                )
                s.add(user)
                s.flush()
                user_id = user.id
                passwords[p.login] = password
            s.add(Enrollment(user_id=user_id, course_id=course_id, role=p.role, section=p.section))
        elif c.kind == "update" and p is not None:
            user = s.get(User, c.user_id)
            for name, (_, after) in c.changes.items():
                if name == "login":
                    user.name = after
                elif name in ("email", "student_id"):
                    setattr(user, name, after or None)
                elif name == "name":
                    user.full_name = after
            enrolment = s.scalar(
                select(Enrollment).where(
                    Enrollment.course_id == course_id, Enrollment.user_id == c.user_id
                )
            )
            enrolment.role, enrolment.section = p.role, p.section
        elif c.kind == "drop":
            # Only the enrolment: submissions belong to the person and stay.
            s.execute(
                delete(Enrollment).where(
                    Enrollment.course_id == course_id, Enrollment.user_id == c.user_id
                )
            )
    return passwords


def summary(the_plan: Plan) -> dict[str, Any]:
    """The audit entry's record of an import: counts and who was added, updated, dropped."""
    out: dict[str, Any] = the_plan.counts()
    for kind, done in (("add", "added"), ("update", "updated"), ("drop", "dropped")):
        out[done] = [c.login for c in the_plan.of(kind)]
    return out
