"""The dlgrade command line parses the way the README and the set-up scripts call it."""

from __future__ import annotations

from grader.cli import build_parser


def test_images_build_passes_its_options_on() -> None:
    args = build_parser().parse_args(["images", "build", "--env", "numpy", "--force"])
    assert args.action == "build"
    assert args.rest == ["--env", "numpy", "--force"]


def test_grade_defaults() -> None:
    args = build_parser().parse_args(["grade", "assignments/activations", "hw.py"])
    assert (args.sandbox, args.seed, args.json, args.student_view) == (None, 0, False, False)
