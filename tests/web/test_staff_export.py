"""Exports: Canvas's gradebook import layout; an assignment's uploads as one zip."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from web.staff.export import Upload, canvas_csv, safe_name, submissions_zip
from web.staff.gradebook import Cell, Column, Gradebook, Row, Scored
from worker.models import Base
from worker.storage import store_blob

AT = datetime(2026, 12, 1, 12, 0)


def _cell(score: float | None) -> Cell:
    if score is None:
        return Cell(None, 0, False)
    return Cell(Scored(1, False, 0.0, score, "graded", None, False), 1, False)


def test_canvas_layout_fixed_columns_points_row_one_column_per_assignment() -> None:
    book = Gradebook(
        1,
        [
            Column("activations", "Activation functions", 45.0, None, "latest", (1,)),
            Column("mlp", "MNIST MLP", 10.0, None, "best", (2,)),
        ],
        [],
    )
    rows = [
        Row(1, "alice", "a@x", {"activations": _cell(44.5), "mlp": _cell(7.0)}),
        Row(2, '=HYPERLINK("http://evil")', "", {"activations": _cell(1 / 3), "mlp": _cell(None)}),
        Row(
            3,
            "carol",
            "c@x",
            {"activations": _cell(40.0), "mlp": _cell(9.0)},
            full_name="Carol Example",
            student_id="S-0042",
            section="Lab B",
        ),
    ]
    table = list(csv.reader(io.StringIO(canvas_csv(book, rows, section="dl101"))))
    assert table[0] == [
        "Student",
        "ID",
        "SIS User ID",
        "SIS Login ID",
        "Section",
        "Activation functions",
        "MNIST MLP",
    ]
    assert table[1] == ["    Points Possible", "", "", "", "", "45", "10"]
    assert table[2] == ["alice", "", "", "alice", "dl101", "44.5", "7"]
    # a missing grade is blank (Canvas leaves it alone); a formula is text, not a formula
    assert table[3] == [
        '\'=HYPERLINK("http://evil")',
        "",
        "",
        '\'=HYPERLINK("http://evil")',
        "dl101",
        "0.33",
        "",
    ]
    # What the roster said: full name, the SIS id, the student's own section.
    assert table[4] == ["Carol Example", "", "S-0042", "carol", "Lab B", "40", "9"]


def test_zip_holds_every_upload_under_harmless_names() -> None:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    s = Session(engine)
    sha_a, _ = store_blob(s, b"def relu(x):\n    return x\n")
    sha_b, _ = store_blob(s, b"PK\x05\x06" + b"\x00" * 18)
    uploads = [
        Upload(7, "alice", "activations.py", sha_a, AT, False, 40.0),
        Upload(9, "../../bob", "../../../etc/<script>x.py", sha_b, AT, True, None),
        Upload(11, "carol", "lost.py", "0" * 64, AT, False, None),
    ]
    data = submissions_zip(s, "activations", uploads)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        assert "activations/alice/7-activations.py" in names
        assert zf.read("activations/alice/7-activations.py") == b"def relu(x):\n    return x\n"
        assert all(".." not in n and not n.startswith("/") and "<" not in n for n in names)
        index = list(csv.reader(io.StringIO(zf.read("activations/index.csv").decode())))
    assert index[1][:2] == ["7", "alice"] and index[1][4:6] == ["no", "40"]
    assert (
        index[2][0] == "9" and index[2][4] == "yes" and index[2][6].startswith("activations/bob/9-")
    )
    # A submission whose bytes the store lost is listed with no file.
    assert index[3][0] == "11" and index[3][6] == ""


def test_safe_name_keeps_ordinary_names() -> None:
    assert safe_name("hw1_final.v2.py") == "hw1_final.v2.py"
    assert safe_name("C:\\Users\\me\\hw.py") == "hw.py"
    assert safe_name('" onerror=alert(1) x.py') == "onerror_alert_1_x.py"
    assert safe_name("..") == "file"
