"""The training harness's parts that need no sandbox: the at-chance bound under any naming
of the outputs, and the input shapes a network is offered (grader/training.py)."""

from __future__ import annotations

import numpy as np
import pytest

from grader import training
from grader.training import Relabelling, RunContext, TrainingTask, best_naming_correct


def test_best_naming_counts_a_renamed_perfect_classifier_as_perfect():
    labels = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9] * 3)
    renamed = (labels + 3) % 10  # right on every image, under other names: 0% as named
    assert np.sum(renamed == labels) == 0
    assert best_naming_correct(renamed, labels, 10) == 30


def test_best_naming_of_one_constant_answer_is_the_commonest_digit():
    labels = np.array([1, 1, 1, 7, 7, 2])
    assert best_naming_correct(np.full(6, 4), labels, 10) == 3  # "4" renamed to 1


def test_best_naming_may_merge_classes_and_ignores_answers_out_of_range():
    labels = np.array([0, 0, 1, 1, 2, 2])
    # Output 5 for both 0s and one 1; output 9 for a 1 and both 2s; -1 and 12 are never right.
    assert best_naming_correct(np.array([5, 5, 5, 9, 9, 9]), labels, 10) == 4
    assert best_naming_correct(np.array([-1, 12, 1, 1, 2, 2]), labels, 10) == 4


def _context(conventions: tuple[str, ...]) -> RunContext:
    task = TrainingTask(
        classes=10,
        threshold=0.9,
        margin=0.01,
        write_data=lambda folder, relabelling: None,
        genuine_test=lambda: (np.zeros((0, 784)), np.zeros(0)),
        validation=lambda: (np.zeros((0, 784)), np.zeros(0)),
        conventions=conventions,
    )
    return RunContext(task, None, None, 0, 0, Relabelling(np.roll(np.arange(10), 1)))


def test_a_cnn_is_offered_its_images_as_rows_or_as_one_channel_squares():
    rc = _context(training.IMAGE_CONVENTIONS)
    rows = np.arange(2 * 784, dtype=np.float32).reshape(2, 784)
    squares = rc._inputs(rows, "images (N, 1, H, W)")
    assert squares.shape == (2, 1, 28, 28)
    # Row-major: pixel (r, c) of image i is entry 28 r + c of its row.
    assert squares[1, 0, 3, 5] == rows[1, 28 * 3 + 5]
    assert rc._inputs(rows, "plain").shape == (2, 784)


class _Ctx:
    def progress(self, text: str) -> None:
        pass


class _Net:
    """A stand-in network that reads the digit off the image (its first ten pixels hold the
    digit's one-hot code, which the test noise cannot hide) and answers it under the run's
    names plus ``shift``; None: one class for every image."""

    def __init__(self, relabelling: Relabelling, shift: int | None) -> None:
        self.relabelling, self.shift = relabelling, shift

    def call(self, method: str, x: np.ndarray) -> np.ndarray:
        if self.shift is None:
            return np.eye(10, dtype=np.float32)[np.zeros(len(x), dtype=np.int64)]
        digits = np.argmax(x[:, :10], axis=1)
        return np.eye(10, dtype=np.float32)[(self.relabelling.labels(digits) + self.shift) % 10]


def _digit_images(labels: np.ndarray) -> np.ndarray:
    x = np.zeros((len(labels), 784), np.float32)
    x[np.arange(len(labels)), labels] = 1.0
    return x


@pytest.mark.parametrize(
    ("shift", "fails"),
    [(0, "classifies"), (3, "sorts the test images by digit"), (None, None)],
)
def test_at_chance_refuses_a_network_that_already_knows_the_digits(shift, fails):
    labels = np.arange(1000) % 10
    task = TrainingTask(
        classes=10,
        threshold=0.9,
        margin=0.01,
        write_data=lambda folder, relabelling: None,
        genuine_test=lambda: (_digit_images(labels), labels),
        validation=lambda: (_digit_images(labels[:500]), labels[:500]),
        conventions=("plain",),
    )
    relabelling = Relabelling(np.roll(np.arange(10), 1))  # class c is shown as c + 1
    # shift 0: right under this grading's names; shift 3: right under other names.
    net = _Net(relabelling, shift)
    rc = RunContext(task, None, _Ctx(), 0, 0, relabelling)
    if fails is None:
        rc.at_chance(net, "the untrained Net()")
        return
    with pytest.raises(training.CheckFailed, match=fails):
        rc.at_chance(net, "the untrained Net()")


def test_thresholds_are_written_as_the_course_writes_them():
    assert [training.percent(t) for t in (0.94, 0.97, 0.985)] == ["94%", "97%", "98.5%"]


@pytest.mark.parametrize(("seconds", "flagged"), [(0.3, True), (31.0, False), (None, False)])
def test_training_done_in_a_blink_is_pointed_out_to_a_ta_never_judged(seconds, flagged):
    task = _context(training.IMAGE_CONVENTIONS).task
    run = training.RunResult(0, 5, 0.99, 9_900, 10_000, seconds=seconds)
    verdict = task._verdict([run], "Net() trained by your train()", "")
    assert verdict.passed  # 99% against a 90% bar, however quick
    assert ("for a TA to look at: training took under 1 s" in verdict.message) == flagged
    assert "0.3" not in verdict.message  # the time itself would differ between gradings


def test_the_confusion_is_counted_in_genuine_digits_whatever_the_run_called_them():
    # Genuine 0 is shown as class 2, 1 as 0, 2 as 1.
    relabelling = Relabelling(classes=np.array([2, 0, 1]))
    labels = np.array([0, 0, 1, 1, 2, 2])
    # Right under the run's names on five images; the second 1 answered as shown class 2
    # (which is genuine 0); one answer outside the classes, counted nowhere.
    answers = np.array([2, 2, 0, 2, 1, 7])
    assert training.confusion(relabelling, answers, labels, 3) == [
        [2, 0, 0],
        [1, 1, 0],
        [0, 0, 1],
    ]


def test_an_epoch_is_recorded_from_the_runs_files_and_a_missing_file_costs_no_verdict(tmp_path):
    """The curve: cross-entropy on the run's training rows, accuracy on its validation rows,
    both from the scores the grader computes; without the files, no curve and no error."""
    import types

    rc = _context(("plain",))
    rc.student = types.SimpleNamespace(
        _session=types.SimpleNamespace(
            sandbox=types.SimpleNamespace(spec=types.SimpleNamespace(root=tmp_path))
        )
    )
    rc.record_epoch(0, lambda x: np.zeros((len(x), 10)))  # no data folder yet
    assert rc.curve == []
    folder = tmp_path / "data" / "run0"
    folder.mkdir(parents=True)
    rc._curve_rows = None
    x = np.eye(4, 784, dtype=np.float32)
    np.save(folder / "X_train.npy", x)
    np.save(folder / "y_train.npy", np.array([0, 1, 2, 3]))
    np.save(folder / "X_val.npy", x)
    np.save(folder / "y_val.npy", np.array([0, 1, 2, 9]))

    def scores(rows):  # a network sure of class i for the row with a 1 in pixel i
        out = np.full((len(rows), 10), -30.0)
        out[np.arange(len(rows)), np.argmax(rows, axis=1)] = 30.0
        return out

    rc.record_epoch(1, lambda rows: np.zeros((len(rows), 10)))  # uniform: ln 10, chance
    rc.record_epoch(2, scores)
    assert rc.curve[0] == {"epoch": 1, "loss": round(np.log(10), 5), "accuracy": 0.25}
    assert rc.curve[1]["epoch"] == 2 and rc.curve[1]["loss"] < 1e-20
    assert rc.curve[1]["accuracy"] == 0.75  # the fourth validation label says 9, not 3
