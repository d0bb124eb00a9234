"""Class analytics: failure rates and their common message, pictures that carry no markup."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta

from web.staff.analytics import (
    check_failures,
    failure_rate_svg,
    histogram_svg,
    message_shape,
    submissions_over_time_svg,
)


def _report(**statuses: tuple[str, str]) -> dict:
    return {
        "checks": [
            {"name": name, "status": status, "message": message, "hidden": name == "hidden_one"}
            for name, (status, message) in statuses.items()
        ]
    }


def test_failure_rate_per_check_with_its_most_common_message() -> None:
    reports = [
        _report(
            relu=("failed", "relu at index (0, 3): expected 0, got -0.5"),
            softmax=("passed", ""),
        ),
        _report(
            relu=("failed", "relu at index (2, 1): expected 0, got -1.25"),
            softmax=("timeout", "softmax took longer than 10 s"),
        ),
        _report(relu=("error", "NameError: name 'np' is not defined"), softmax=("passed", "")),
        _report(relu=("passed", ""), softmax=("passed", "")),
    ]
    relu, softmax = check_failures(reports)
    assert (relu.name, relu.failed, relu.total, relu.rate) == ("relu", 3, 4, 0.75)
    # the two index messages are one mistake; the example is a real message
    assert relu.common_count == 2
    assert relu.common_message == "relu at index (0, 3): expected 0, got -0.5"
    assert (softmax.name, softmax.failed, softmax.rate) == ("softmax", 1, 0.25)
    assert softmax.common_message == "softmax took longer than 10 s"


def test_message_shape_masks_numbers_only() -> None:
    assert message_shape("w1[3, 4]: expected 1.5e-3, got -2") == "w#[#, #]: expected #, got #"


def _assert_inert_svg(svg: bytes) -> None:
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    text = svg.decode()
    assert "<script" not in text and "<text" not in text and "alert" not in text


def test_pictures_are_svg_without_text_markup_even_for_hostile_names() -> None:
    reports = [
        _report(
            **{"<script>alert(1)</script>": ("failed", "x"), 'a" onload="alert(2)': ("failed", "y")}
        ),
        _report(**{"$\\frac{": ("failed", "z")}),
    ]
    _assert_inert_svg(failure_rate_svg(check_failures(reports)))
    _assert_inert_svg(histogram_svg([1.0, 2.5, 10.0, 10.0], 10.0))
    due = datetime(2026, 12, 7, 23, 59)
    times = [due - timedelta(hours=h) for h in (0.2, 1.5, 3, 30, 50)] + [due + timedelta(hours=2)]
    _assert_inert_svg(submissions_over_time_svg(times, due))
    _assert_inert_svg(submissions_over_time_svg(times, None))
    _assert_inert_svg(submissions_over_time_svg([], None))
    _assert_inert_svg(histogram_svg([], 0.0))
