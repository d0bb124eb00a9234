"""Hidden means hidden: secret per-submission inputs, withheld output, no echo in visible checks.

A hostile submission prints every input it is called with. Its staff report
keeps all of it; its student view must show none of the hidden checks' inputs,
whether printed, echoed back in a visible check's answer, or recorded as a
seed; and a lookup table built from one report's hidden inputs must earn
nothing when the next submission is graded.

Which inputs are hidden is told here without asking the grader: the visible
checks of the activations homework draw |x| < 20 (uniform in [-4, 4], or normal
with sigma 3), the hidden large-input checks draw |x| up to 1000.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from grader.assignment import load_assignment
from grader.config import secret_key
from grader.engine import grade, hidden_seed
from grader.messages import CheckStatus, GradeReport
from grader.sandbox.local import bwrap_path
from reference import activations as ref
from tests.conftest import require

REPO = Path(__file__).resolve().parents[2]
FOLDER = REPO / "assignments" / "activations"
REDTEAM = REPO / "tests" / "grader" / "redteam" / "assignment"
SOLUTION = (FOLDER / "solution" / "activations.py").read_text()
CALL = re.compile(r"^CALL (\w+) (.*)$", re.MULTILINE)
NUMBER = re.compile(r"-?\d+\.\d+(?:e[-+]?\d+)?")
HIDDEN_MAGNITUDE = 100.0  # no visible check draws an input this large

# Appended to the solution: every public function prints its arguments (exactly: JSON
# floats round-trip), and softmax/softmax_jacobian, both visible, answer with the largest
# input seen so far, so their messages would quote any hidden input seen before them.
SPY = """

import json as _json

_SEEN = [0.0]


def _spy(name, fn):
    def spy(*args):
        arrays = [_json.dumps(np.asarray(a, dtype=float).tolist()) for a in args]
        for a in args:
            _SEEN[0] = max(_SEEN[0], float(np.max(np.abs(np.asarray(a, dtype=float)))))
        print("CALL", name, "[" + ", ".join(arrays) + "]", flush=True)
        return fn(*args)

    return spy


for _name, _fn in list(globals().items()):
    if callable(_fn) and not _name.startswith("_") and not isinstance(_fn, type):
        globals()[_name] = _spy(_name, _fn)


def _echo(name):
    def echo(*args):
        print("CALL", name, "[" + ", ".join(
            _json.dumps(np.asarray(a, dtype=float).tolist()) for a in args) + "]", flush=True)
        return np.full(np.shape(args[0]) * (2 if name == "softmax_jacobian" else 1), _SEEN[0])

    return echo


softmax = _echo("softmax")
softmax_jacobian = _echo("softmax_jacobian")
"""


# The course's release time for these tests: shipped manifests carry no dates, and
# each view below is taken at an explicit moment before or after it.
RELEASE = datetime(2026, 12, 8, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def assignment():
    require(bwrap_path() is not None, "bubblewrap", "apt-get install bubblewrap")
    return dataclasses.replace(load_assignment(FOLDER), hidden_release=RELEASE)


def _submit(tmp_path: Path, source: str, name: str = "activations.py") -> Path:
    path = tmp_path / name
    path.write_text(source)
    return path


def _calls(text: str) -> list[tuple[str, list]]:
    calls = []
    for m in CALL.finditer(text):
        # The last line may be cut where the output limit was reached.
        with contextlib.suppress(json.JSONDecodeError):
            calls.append((m.group(1), json.loads(m.group(2))))
    return calls


def _large_values(calls: list[tuple[str, list]]) -> set[float]:
    values = set()
    for _, args in calls:
        for v in np.asarray(args[0], dtype=float).ravel():
            if abs(v) > HIDDEN_MAGNITUDE:
                values.add(float(v))
    return values


@pytest.fixture(scope="module")
def spied(assignment, tmp_path_factory) -> GradeReport:
    sub = _submit(tmp_path_factory.mktemp("spy"), SOLUTION + SPY)
    return grade(assignment, sub, sandbox="local", seed=3)


def test_staff_report_keeps_every_printed_input(spied):
    """The staff report has what the submission printed, hidden checks' inputs included."""
    calls = _calls(spied.output + spied.hidden_output)
    names = {name for name, _ in calls}
    assert {"sigmoid", "softmax", "relu_grad", "softplus_grad"} <= names
    # 13 functions and their grads, 4 inputs past |x| = 700 each (and a softmax batch).
    assert len(_large_values(calls)) >= 4 * 13


def test_student_view_shows_no_hidden_input(spied):
    hidden = _large_values(_calls(spied.output + spied.hidden_output))
    assert hidden
    view = json.dumps(spied.student_view(now=datetime(2026, 12, 1, tzinfo=UTC)).to_dict())
    leaked = sorted(v for v in hidden if repr(v) in view or f"{v:.10g}" in view)
    assert leaked == []
    # Nor any other number the hidden checks alone were called with (kinks, shapes, axes;
    # not constants such as selu's alpha, which visible checks pass too).
    printed = set(NUMBER.findall(spied.hidden_output)) - set(NUMBER.findall(spied.output))
    assert len(printed) > 100
    assert sorted(s for s in printed if len(s) > 8 and s in view) == []
    release = RELEASE.isoformat()
    assert release == "2026-12-08T12:00:00+00:00"
    assert view.count(f"[output printed during hidden checks is withheld until {release}]") == 1


def test_visible_checks_see_no_hidden_input(spied):
    """Visible checks run first: what they print and return predates every hidden input."""
    visible = [c for c in spied.checks if not c.hidden]
    assert {"softmax", "softmax_jacobian"} <= {c.name for c in visible}
    assert _large_values(_calls(spied.output)) == set()
    # The echoing softmax answered with the largest input it had seen: a visible one.
    echo = next(c for c in visible if c.name == "softmax")
    assert echo.status == CheckStatus.FAILED
    got = float(re.search(r"got (\S+),", echo.message).group(1))
    assert 0 < got <= HIDDEN_MAGNITUDE
    hidden = _large_values(_calls(spied.hidden_output))
    assert hidden
    for c in visible:
        quoted = [abs(float(n)) for n in re.findall(r"(?:got|expected) (\S+?),? ", c.message)]
        assert all(n <= HIDDEN_MAGNITUDE for n in quoted), (c.name, c.message)
        assert not [v for v in hidden if f"{v:.10g}" in c.message], (c.name, c.message)


def test_staff_view_has_the_hidden_seed_and_the_student_view_not(spied):
    secret = spied.environment["hidden_seed"]
    assert isinstance(secret, int) and secret not in (0, 3)
    assert secret == hidden_seed(3)
    before = spied.student_view(now=datetime(2026, 12, 1, tzinfo=UTC))
    after = spied.student_view(now=datetime(2026, 12, 9, tzinfo=UTC))
    for view in (before, after):
        assert "hidden_seed" not in view.environment
        assert str(secret) not in json.dumps(view.to_dict())
        assert view.environment["seed"] == 3
    # Before release: points only. After: names, messages and the output, for this one.
    assert {c.name for c in before.checks if c.hidden} == {"hidden check"}
    assert before.hidden_output == "" and spied.hidden_output
    assert after.checks == spied.checks and after.hidden_output == spied.hidden_output


FORGED_FUNCTIONS = ("sigmoid", "sigmoid_grad", "swish", "swish_grad", "softplus", "softplus_grad")
FORGERY = """

def sigmoid(x):
    e = np.exp(np.asarray(x, dtype=np.float64))
    return e / (1.0 + e)


import json as _json

_TABLE = _json.loads({table!r})


def _lookup(name, fn):
    def lookup(*args):
        key = name + " " + "[" + ", ".join(
            _json.dumps(np.asarray(a, dtype=float).tolist()) for a in args) + "]"
        if key in _TABLE:
            return np.asarray(_TABLE[key])
        return fn(*args)

    return lookup


for _name in {names!r}:
    globals()[_name] = _lookup(_name, globals()[_name])
"""


def test_a_lookup_table_of_leaked_inputs_earns_no_hidden_point_next_time(
    assignment, spied, tmp_path
):
    """The naive sigmoid loses 1.5 hidden points; a table of one report's inputs wins them
    back for that seed only."""
    table = {}
    for name, args in _calls(spied.output + spied.hidden_output):
        if name in FORGED_FUNCTIONS:
            key = f"{name} [" + ", ".join(json.dumps(a) for a in args) + "]"
            table[key] = getattr(ref, name)(*(np.asarray(a) for a in args)).tolist()
    assert len(table) >= 2 * len(FORGED_FUNCTIONS)
    forged = SOLUTION + FORGERY.format(table=json.dumps(table), names=FORGED_FUNCTIONS)
    sub = _submit(tmp_path, forged)
    targets = {"sigmoid_large_inputs", "swish_large_inputs", "softplus_large_inputs"}

    same = grade(assignment, sub, sandbox="local", seed=3)  # the seed the table was made for
    assert [c.name for c in same.checks if c.status != CheckStatus.PASSED] == []

    again = grade(assignment, sub, sandbox="local", seed=4)  # the next submission
    lost = {c.name: c.score for c in again.checks if c.status != CheckStatus.PASSED}
    assert lost == dict.fromkeys(targets, 0.0)
    assert again.score == assignment.max_score - 1.5


# -- output printed while checks run, attributed exactly ------------------------------------

# square() prints its input's largest magnitude, and a thread prints the last one seen,
# every millisecond, whatever the grader is doing: the hidden check draws |x| up to 1000,
# the visible ones standard normals.
THREADED = """
import threading
import time

import numpy as np

_LAST = [0.0]


def _chatter():
    while True:
        print(f"thread saw {_LAST[0]!r}", flush=True)
        time.sleep(0.001)


threading.Thread(target=_chatter, daemon=True).start()


def square(x):
    _LAST[0] = float(np.max(np.abs(x)))
    print(f"square saw {_LAST[0]!r}", flush=True)
    return x * x


def add(a, b):
    return a + b


def center(x):
    return x - x.mean()


def total(x):
    return np.sum(x)
"""


def _seen(text: str) -> list[float]:
    return [float(v) for v in re.findall(r"saw (\S+)", text)]


def _require_sandbox(kind: str) -> None:
    if kind == "local":
        require(bwrap_path() is not None, "bubblewrap", "apt-get install bubblewrap")
        return
    from grader.sandbox.base import SandboxUnavailable
    from grader.sandbox.docker import docker_available
    from grader.sandbox.images import image_for

    how = "scripts/start_docker.sh && .venv/bin/python -m grader.sandbox.images build"
    require(docker_available(), "Docker engine", how)
    try:
        image_for("numpy")
    except SandboxUnavailable as exc:
        require(False, f"the sandbox images ({exc})", how)


@pytest.mark.parametrize("kind", ["local", "docker"])
def test_output_printed_during_hidden_checks_never_reaches_the_visible_output(tmp_path, kind):
    """Docker relays the container's output through its daemon, later than the replies:
    what is late is withheld, never shown early."""
    _require_sandbox(kind)
    report = grade(
        load_assignment(REDTEAM), _submit(tmp_path, THREADED, "redteam.py"), sandbox=kind
    )
    assert report.score == 6.0
    hidden_max = max(_seen(report.hidden_output))
    assert hidden_max > 10  # the hidden check's input, printed: staff see it
    assert all(v < 10 for v in _seen(report.output))
    # square's own line for the visible call is attributed to the visible output.
    assert re.search(r"^square saw ", report.output, re.MULTILINE)
    view = report.student_view()
    assert repr(hidden_max) not in json.dumps(view.to_dict())
    assert "[output printed during hidden checks is withheld until" in view.output


# -- the secret key --------------------------------------------------------------------------


def test_hidden_seed_needs_the_key(monkeypatch):
    monkeypatch.setenv("DLGRADE_SECRET_KEY", "course-key-one")
    one = [hidden_seed(s) for s in (0, 1, 2)]
    assert [hidden_seed(s) for s in (0, 1, 2)] == one  # reproducible
    assert len(set(one)) == 3 and not set(one) & {0, 1, 2}
    monkeypatch.setenv("DLGRADE_SECRET_KEY", "course-key-two")
    assert all(hidden_seed(s) != h for s, h in zip((0, 1, 2), one, strict=True))


def test_key_file_is_made_private_once(monkeypatch, tmp_path):
    monkeypatch.delenv("DLGRADE_SECRET_KEY", raising=False)
    monkeypatch.setenv("DLGRADE_DATA_DIR", str(tmp_path))
    key = secret_key()
    path = tmp_path / "secret.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(key) == 64 and secret_key() == key
    assert list(tmp_path.iterdir()) == [path]  # no stray temporary file
    os.chmod(path, 0o644)
    with pytest.raises(PermissionError, match="readable by others"):
        secret_key()


PROBE = """
import os


def square(x):
    print("environ", sorted(os.environ.items()))
    try:
        print("key file", open({path!r}).read())
    except OSError as err:
        print("key file unreadable", type(err).__name__)
    return x * x
"""


def test_the_key_never_enters_the_sandbox(monkeypatch, tmp_path):
    require(bwrap_path() is not None, "bubblewrap", "apt-get install bubblewrap")
    from grader.config import data_dir

    monkeypatch.delenv("DLGRADE_SECRET_KEY", raising=False)
    file_key = secret_key()  # the key file in the data directory, made if missing
    path = data_dir() / "secret.key"
    probe = _submit(tmp_path, PROBE.format(path=str(path)), "redteam.py")
    report = grade(load_assignment(REDTEAM), probe, sandbox="local")
    seen = report.output + report.hidden_output
    assert "key file unreadable" in seen and "environ" in seen
    assert file_key.decode() not in seen

    monkeypatch.setenv("DLGRADE_SECRET_KEY", "dlgrade-test-key-5d1f0a")
    report = grade(load_assignment(REDTEAM), probe, sandbox="local")
    seen = report.output + report.hidden_output
    assert "environ" in seen and "dlgrade-test-key-5d1f0a" not in seen


def test_reports_without_release_time_withhold_forever() -> None:
    report = GradeReport("a", 0, 1, "graded", hidden_output="x = 123.456", environment={})
    view = report.student_view(now=datetime.now(UTC) + timedelta(days=3650))
    assert "123.456" not in json.dumps(view.to_dict())
    assert view.output == (
        "[output printed during hidden checks is withheld until the hidden checks are released]"
    )
