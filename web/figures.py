"""Pictures drawn on the server: matplotlib (Agg, no display) saved as inert SVG.

Text is drawn as paths, not ``<text>``, and matplotlib's comments (each label
again, escaped) are dropped, so nothing a student or a check wrote can become
markup; routes serve the pictures as ``image/svg+xml`` through ``<img>``, where
scripts never run. The staff's class analytics and a training homework's report
draw with these.
"""

from __future__ import annotations

import io
import re
from typing import Any

import matplotlib

matplotlib.use("Agg")  # before pyplot: a server has no display
matplotlib.rcParams["svg.fonttype"] = "path"  # glyphs as outlines: no text becomes markup
matplotlib.rcParams["svg.hashsalt"] = "dlgrade"  # the same data draws the same bytes

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

_COMMENT = re.compile(rb"<!--.*?-->\n?", re.S)
BLUE, RED, GREY = "#3b6ea8", "#c0504d", "#8a8f98"


def label(text: str, width: int = 40) -> str:
    """A name as a plot label: shortened, and ``$`` not read as mathtext (which can fail)."""
    return text[:width].replace("$", r"\$")


def svg(fig: Figure) -> bytes:
    """The figure as SVG bytes holding no trace of its labels' text; the figure is closed."""
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    return _COMMENT.sub(b"", buf.getvalue())


def figure(width: float = 6.4, height: float = 3.2, columns: int = 1) -> tuple[Figure, Any]:
    """A figure of ``columns`` plots side by side, without top and right spines."""
    fig, axes = plt.subplots(1, columns, figsize=(width, height))
    for ax in axes if columns > 1 else [axes]:
        ax.spines[["top", "right"]].set_visible(False)
    return fig, axes
