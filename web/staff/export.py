"""What staff take away: the gradebook as Canvas imports it, an assignment's uploads as one zip.

Canvas's gradebook import reads the layout of its own export: the columns
``Student, ID, SIS User ID, SIS Login ID, Section``, then one column per
assignment, and a second row ``Points Possible`` giving each assignment's
points. Students are matched on the ID columns: ``SIS User ID`` carries the
student id and ``Section`` the section from the roster import, ``SIS Login ID``
the login (the name students sign in with); we know no Canvas-internal ``ID``.
``Student`` is the roster's full name where there is one. A blank score leaves
Canvas's grade as it is.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from web.staff.gradebook import Gradebook, Row
from worker.storage import load_blob

CANVAS_FIXED = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
POINTS_ROW = "    Points Possible"  # the label (indent included) Canvas writes and reads back
# A spreadsheet opening the file runs a cell that starts with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _text(value: str) -> str:
    """A text cell that a spreadsheet shows as text (CSV injection), never runs."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _points(value: float | None) -> str:
    return "" if value is None else f"{round(value, 2):g}"


def canvas_csv(book: Gradebook, rows: Iterable[Row], section: str = "") -> str:
    """The gradebook in Canvas's import layout (one column per assignment, its title)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow([*CANVAS_FIXED, *(_text(c.title) for c in book.columns)])
    w.writerow([POINTS_ROW, "", "", "", "", *(_points(c.max_score) for c in book.columns)])
    for row in rows:
        scores = [_points(row.cells[c.slug].score) for c in book.columns]
        w.writerow(
            [
                _text(row.full_name or row.name),
                "",
                _text(row.student_id),
                _text(row.name),
                _text(row.section or section),
                *scores,
            ]
        )
    return out.getvalue()


@dataclass(frozen=True)
class Upload:
    """One submission to put in the zip."""

    submission_id: int
    student: str
    filename: str
    sha256: str
    submitted_at: datetime
    late: bool
    score: float | None


def safe_name(name: str, fallback: str = "file") -> str:
    """A student-chosen name as a single harmless path component."""
    base = _UNSAFE_NAME.sub("_", Path(name.replace("\\", "/")).name).strip("._")
    return base[:100] or fallback


def submissions_zip(conn: Any, slug: str, uploads: Iterable[Upload]) -> bytes:
    """``write_submissions_zip`` into memory (for small sets and tests)."""
    buf = io.BytesIO()
    write_submissions_zip(buf, conn, slug, uploads)
    return buf.getvalue()


def write_submissions_zip(out: BinaryIO, conn: Any, slug: str, uploads: Iterable[Upload]) -> None:
    """Every upload as ``<slug>/<student>/<submission id>-<file name>``, and an index.csv.

    Written to ``out`` (a temporary file for a class: 300 students' uploads need
    not fit in the portal's memory). Each stored blob is read from the
    database and written into the zip, one at a time.
    """
    index = io.StringIO()
    w = csv.writer(index, lineterminator="\r\n")
    w.writerow(["submission", "student", "file", "submitted_at", "late", "score", "path"])
    root = safe_name(slug, "assignment")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for up in uploads:
            student = safe_name(up.student, f"user-{up.submission_id}")
            path = f"{root}/{student}/{up.submission_id}-{safe_name(up.filename, 'upload')}"
            try:
                zf.writestr(path, load_blob(conn, up.sha256))
            except OSError:
                path = ""  # listed in the index, with no file: the store lost it
            w.writerow(
                [
                    up.submission_id,
                    _text(up.student),
                    _text(up.filename),
                    up.submitted_at.isoformat(),
                    "yes" if up.late else "no",
                    _points(up.score),
                    path,
                ]
            )
        zf.writestr(f"{root}/index.csv", index.getvalue())
