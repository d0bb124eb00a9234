"""A training homework's report in a picture: its runs' epochs and its final network's confusion.

The data is a check's ``training`` field (grader/training.py, ``TrainingTask``):
per graded run, the epochs the grader drove and read back (mean cross-entropy
on the run's training rows, accuracy on its validation rows, both computed by
the grader from the parameters it read), the test accuracy, and the confusion
of the final network on the genuine test images in genuine digits. A file that
trained itself has no epochs the grader saw: the picture says so and shows the
confusion alone. ``describe`` says the same in words, for the page's text and
for a screen reader (``grader.feedback.describe_training``, which the command
line's report prints too).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from flask import abort
from werkzeug.wrappers import Response

from grader.feedback import last_confusion, training_runs
from web.figures import BLUE, GREY, RED, figure, svg


def training_svg(data: dict[str, Any]) -> bytes:
    """Left: each run's training loss and validation accuracy per epoch, the threshold and
    the run's test accuracy. Right: the last run's confusion, rows by digit, as % of the
    digit's test images (counts in the cells off the diagonal that are not 0)."""
    fig, (left, right) = figure(10.0, 4.0, columns=2)
    fig.subplots_adjust(wspace=0.5)  # the loss axis's label between the two plots
    threshold = data.get("threshold")
    plotted = False
    loss_axis = left.twinx()
    loss_axis.spines[["top"]].set_visible(False)
    shades = [BLUE, "#6f9bd1", "#a9c4e6"]
    for i, run in enumerate(training_runs(data)):
        epochs = run.get("epochs") or []
        if len(epochs) < 2:
            continue
        plotted = True
        x = [e["epoch"] for e in epochs]
        colour = shades[i % len(shades)]
        left.plot(x, [100 * e["accuracy"] for e in epochs], "-o", ms=3, color=colour,
                  label=f"run {run.get('run')}: validation accuracy")  # fmt: skip
        loss_axis.plot(x, [e["loss"] for e in epochs], "--", color=RED, alpha=0.4 + 0.6 / (i + 1),
                       label=f"run {run.get('run')}: training loss")  # fmt: skip
        if run.get("accuracy") is not None:
            left.plot([x[-1]], [100 * run["accuracy"]], "D", color="black", ms=5,
                      label="test accuracy" if i == 0 else None)  # fmt: skip
    if plotted:
        if threshold is not None:
            left.axhline(100 * threshold, color=GREY, linestyle=":", label="threshold")
        left.set_xlabel("epoch (0: before training)")
        left.set_ylabel("accuracy (%)")
        left.set_ylim(0, 100)
        loss_axis.set_ylabel("training loss (cross-entropy)")
        loss_axis.set_ylim(bottom=0)
        handles = left.get_legend_handles_labels()
        more = loss_axis.get_legend_handles_labels()
        left.legend(handles[0] + more[0], handles[1] + more[1], loc="center right",
                    fontsize=7, frameon=False)  # fmt: skip
        left.set_title("training, as the grader measured it")
    else:
        loss_axis.set_axis_off()
        left.set_axis_off()
        left.text(0.5, 0.5, "the file trained the network itself:\nno epochs for the grader "
                  "to plot", ha="center", va="center", color=GREY)  # fmt: skip
    found = last_confusion(data)
    if found is None:
        right.set_axis_off()
    else:
        run, counts = found
        rows = counts.sum(axis=1, keepdims=True)
        share = np.divide(100.0 * counts, rows, out=np.zeros(counts.shape), where=rows > 0)
        right.imshow(share, cmap="Blues", vmin=0, vmax=100)
        n = counts.shape[0]
        for d in range(n):
            for a in range(n):
                if d != a and counts[d, a]:
                    right.text(a, d, str(counts[d, a]), ha="center", va="center", fontsize=6,
                               color=RED)  # fmt: skip
        right.set_xticks(range(n))
        right.set_yticks(range(n))
        right.set_xlabel("answered as")
        right.set_ylabel("digit")
        right.set_title(f"run {run}'s network on the test images (% of each digit)")
    return svg(fig)


def picture(checks: Iterable[Any], name: str) -> Response:
    """The SVG of check ``name``'s training among ``checks`` (a report's, as its reader may
    see it); 404 when there is none (no such check, no training, or withheld)."""
    found = [c for c in checks if c.name == name and c.training]
    if not found:
        abort(404)
    return Response(
        training_svg(found[0].training),
        mimetype="image/svg+xml",
        headers={"Cache-Control": "private, no-store"},
    )
