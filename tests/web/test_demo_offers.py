"""Every homework the demo offers can be graded: a built-in graded on MNIST is offered only
when MNIST is installed where gradings run, and the demo says why it is not otherwise."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reference.data import default_data_dir
from tests.conftest import require
from web.demo import built_in_assignments, mnist_missing, needs_mnist, seed_demo
from worker.config import Settings

MNIST_HOMEWORKS = {"mnist-cnn", "mnist-numpy-mlp", "mnist-torch-mlp"}


def test_the_mnist_homeworks_are_the_ones_that_need_mnist() -> None:
    found = {f.name for f in built_in_assignments() if needs_mnist(f)}
    assert found == MNIST_HOMEWORKS


def test_without_mnist_the_demo_leaves_them_out_and_says_why(web_settings: Settings) -> None:
    # web_settings' data folder is fresh and empty: no MNIST cache in it.
    assert not (Path(os.environ["DLGRADE_DATA_DIR"]) / "datasets" / "mnist").exists()
    if not mnist_missing():
        pytest.skip("MNIST is installed outside the data folder here (a package provides it)")
    demo = seed_demo(web_settings, passwords={"student": "x" * 12})
    assert set(demo.not_offered) == MNIST_HOMEWORKS
    assert MNIST_HOMEWORKS.isdisjoint(demo.assignments)
    assert {"activations", "losses", "backprop"} <= set(demo.assignments)
    why = demo.not_offered["mnist-cnn"]
    assert why.startswith("MNIST is not installed where gradings run; run scripts/fetch_data.sh")
    assert "mnist not found" in why


def test_with_mnist_installed_the_demo_offers_every_homework(
    web_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo_data = Path(__file__).resolve().parents[2] / ".data"
    mnist = repo_data / "datasets" / "mnist"
    require(mnist.is_dir(), "genuine MNIST under .data/datasets/mnist", "scripts/fetch_data.sh")
    # The data folder where gradings run holds the verified MNIST cache (as fetch_data makes).
    (Path(os.environ["DLGRADE_DATA_DIR"]) / "datasets").mkdir()
    (Path(os.environ["DLGRADE_DATA_DIR"]) / "datasets" / "mnist").symlink_to(mnist.resolve())
    assert default_data_dir() == Path(os.environ["DLGRADE_DATA_DIR"])
    demo = seed_demo(web_settings, passwords={"student": "x" * 12})
    assert demo.not_offered == {}
    assert set(demo.assignments) >= MNIST_HOMEWORKS
