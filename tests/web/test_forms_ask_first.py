"""Forms that change many rows ask first and are labelled: the roster's file input has a
label, dropping students is never ticked by default, "Regrade all" says how many."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from tests.web.conftest import login
from web.demo import DemoData


def test_the_roster_form_is_labelled_and_drops_no_one_by_default(
    client: FlaskClient, demo: DemoData
) -> None:
    login(client, "instructor")
    page = client.get(f"/instructor/courses/{demo.course_id}/roster").get_data(as_text=True)
    assert '<label for="roster-file">Roster file (.csv)</label>' in page
    assert 'id="roster-file"' in page
    (box,) = re.findall(r'<input type="checkbox" name="drop_missing"[^>]*>', page)
    assert "checked" not in box


def test_regrade_all_says_how_many_and_asks(client: FlaskClient, demo: DemoData) -> None:
    login(client, "ta")
    url = f"/staff/courses/{demo.course_id}/assignments/activations/"
    page = client.get(url).get_data(as_text=True)
    assert "Regrade all 0 submissions</button>" in page
    assert 'data-confirm="Regrade all 0 submissions of Activation functions' in page
    assert "confirm.js" in page
