"""A training homework's report shows its training: the epochs as the grader measured them and
the final network's confusion, drawn on the server, with the same picture in words.

The numbers here are written by hand (a curve from chance to 95%, a network that
takes 4 for 9 twenty-five times); what the grader records is tested with the
homework itself (tests/assignments/test_mnist_numpy_mlp.py).
"""

from __future__ import annotations

import html
import os
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from grader.config import REPO_ROOT
from grader.feedback import describe_training as describe
from tests.conftest import require
from tests.web.conftest import (
    PASSWORD,
    add_graded,
    cheap_hash,
    chromium_page,
    grade_queued,
    login,
    report_doc,
)
from tests.web.test_browser import sign_in
from tests.web.test_report_browser import hand_in, no_sideways_scroll, shot
from web.demo import DemoData, seed_demo
from worker.config import Settings

CONFUSION = [[100 if d == a else 0 for a in range(10)] for d in range(10)]
CONFUSION[4][9] = 25
CONFUSION[5][3] = 7
TRAINING = {
    "threshold": 0.94,
    "median": 0.95,
    "runs": [
        {
            "run": 1,
            "accuracy": 0.9512,
            "epochs": [
                {"epoch": 0, "loss": 2.31, "accuracy": 0.1},
                {"epoch": 1, "loss": 0.4, "accuracy": 0.9},
                {"epoch": 2, "loss": 0.2, "accuracy": 0.95},
            ],
            "confusion": CONFUSION,
        }
    ],
}
SAID = [
    "Run 1: validation accuracy 10.0% at epoch 0, 95.0% after epoch 2; training loss 2.310 "
    "to 0.200; test accuracy 95.12%.",
    "Most common confusions of run 1's network: 4 answered as 9 (25 times), 5 answered as 3 "
    "(7 times).",
]


def _graded(web_settings: Settings, demo: DemoData, hidden: bool = False) -> int:
    doc = report_doc(
        [
            {"name": "mnist_accuracy", "score": 20.0, "max_score": 20.0, "status": "passed",
             "message": "test accuracy 95.12%", "training": TRAINING, "hidden": hidden},
        ]
    )  # fmt: skip
    return add_graded(web_settings, demo.assignments["worker-tiny"], demo.user_ids["student"], doc)


def _assert_inert_svg(body: bytes) -> None:
    assert body.lstrip().startswith(b"<?xml") and b"<svg" in body
    for markup in (b"<text", b"<script", b"<!--", b"onload", b'href="http'):
        assert markup not in body, markup


def test_the_picture_in_words() -> None:
    assert describe(TRAINING) == SAID
    script = {"runs": [{"run": 1, "accuracy": 0.97, "epochs": [], "confusion": None}]}
    assert describe(script) == [
        "Run 1: test accuracy 97.00%. Your file trained the network itself, so the grader saw "
        "no epochs to plot."
    ]


def test_a_student_sees_her_training_drawn_and_described(
    client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    sub_id = _graded(web_settings, demo)
    login(client, "student")
    page = html.unescape(client.get(f"/submissions/{sub_id}").get_data(as_text=True))
    url = f"/submissions/{sub_id}/training/mnist_accuracy.svg"
    assert f'src="{url}"' in page
    for line in SAID:
        assert line in page  # in the caption, and the image's alt text for a screen reader
    assert f'alt="{" ".join(SAID)}"' in page
    picture = client.get(url)
    assert picture.status_code == 200 and picture.mimetype == "image/svg+xml"
    _assert_inert_svg(picture.data)
    # The report's JSON carries the same data for the remote CLI and the API.
    doc = client.get(f"/submissions/{sub_id}/report.json").get_json()["report"]
    assert doc["checks"][0]["training"]["runs"][0]["confusion"][4][9] == 25

    client.delete_cookie("session")
    login(client, "other")  # another student of the course: not hers to see
    assert client.get(url).status_code == 404


def test_a_hidden_training_check_keeps_its_picture_until_release(
    client: FlaskClient, demo: DemoData, web_settings: Settings
) -> None:
    sub_id = _graded(web_settings, demo, hidden=True)
    login(client, "student")
    page = client.get(f"/submissions/{sub_id}").get_data(as_text=True)
    assert "/training/" not in page and "answered as" not in page
    assert client.get(f"/submissions/{sub_id}/training/mnist_accuracy.svg").status_code == 404
    doc = client.get(f"/submissions/{sub_id}/report.json").get_json()["report"]
    assert doc["checks"][0].get("training") is None

    client.delete_cookie("session")
    login(client, "ta")  # staff see it at once, on their page of the submission
    course = demo.course_id
    staff_page = html.unescape(
        client.get(f"/staff/courses/{course}/submissions/{sub_id}").get_data(as_text=True)
    )
    assert SAID[1] in staff_page
    picture = client.get(
        f"/staff/courses/{course}/submissions/{sub_id}/training/mnist_accuracy.svg"
    )
    assert picture.status_code == 200
    _assert_inert_svg(picture.data)
    missing = f"/staff/courses/{course}/submissions/{sub_id}/training/nothing.svg"
    assert client.get(missing).status_code == 404


@pytest.mark.browser
@pytest.mark.mnist
@pytest.mark.slow
def test_a_student_hands_in_the_mnist_homework_and_sees_its_training(
    portal: str, demo: DemoData, web_settings: Settings, sandbox_envs: Path
) -> None:
    """Homework 1 handed in through the portal in Chromium, graded by the worker's code on
    genuine MNIST (once: it trains), then read at 1280 and at 390 px: full marks and the
    training picture, loaded and described, with no sideways scroll on a phone."""
    from playwright.sync_api import expect

    mnist = REPO_ROOT / ".data" / "datasets" / "mnist"
    require(mnist.is_dir(), "genuine MNIST under .data/datasets/mnist", "scripts/fetch_data.sh")
    datasets = Path(os.environ["DLGRADE_DATA_DIR"]) / "datasets"
    datasets.mkdir(exist_ok=True)
    (datasets / "mnist").symlink_to(mnist.resolve())
    homework = REPO_ROOT / "assignments" / "mnist-numpy-mlp"
    seed_demo(web_settings, [homework], passwords={"student": PASSWORD}, hasher=cheap_hash)
    with chromium_page(1280) as (page, errors):
        sign_in(page, portal)
        url = hand_in(page, portal, demo.course_id, "mnist-numpy-mlp",
                      homework / "solution" / "np_mnist.py")  # fmt: skip
        assert grade_queued(web_settings, sandbox_envs) == ["graded"]
        assert not errors, errors
    for width in (1280, 390):
        with chromium_page(width) as (page, errors):
            sign_in(page, portal)
            page.goto(url)
            expect(page.locator(".score-big")).to_have_text("45 / 45")
            figure = page.locator("figure.training")
            expect(figure.locator("figcaption")).to_contain_text("after epoch 10")
            expect(figure.locator("figcaption")).to_contain_text("Most common confusions")
            drawn = figure.locator("img").evaluate("i => i.complete && i.naturalWidth")
            assert drawn > 0  # the picture loaded
            no_sideways_scroll(page)
            shot(page, f"report-training-{width}")
            assert not errors, errors
