"""The backprop assignment is sound: the solution, float32 and other stable forms score full
marks, the starter scores zero, and every mutant loses exactly the checks it declares."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from grader.assignment import load_assignment
from grader.engine import grade
from grader.messages import CheckStatus, GradeReport, ReportStatus
from grader.sandbox.local import bwrap_path
from grader.validate import validate
from tests.conftest import require

FOLDER = Path(__file__).resolve().parents[2] / "assignments" / "backprop"
MUTANTS = [m["file"] for m in tomllib.loads((FOLDER / "assignment.toml").read_text())["mutants"]]
SOLUTION = (FOLDER / "solution" / "backprop.py").read_text()


@pytest.fixture(scope="module")
def assignment():
    require(bwrap_path() is not None, "bubblewrap", "apt-get install bubblewrap")
    return load_assignment(FOLDER)


def grade_source(assignment, tmp_path: Path, src: str, seed: int = 0) -> GradeReport:
    sub = tmp_path / "backprop.py"
    sub.write_text(src)
    return grade(assignment, sub, sandbox="local", seed=seed)


def not_passed(report: GradeReport) -> list[tuple[str, str]]:
    return [(c.name, c.message) for c in report.checks if c.status != CheckStatus.PASSED]


def test_validate_passes(assignment):
    outcome = validate(assignment, sandbox="local", log=lambda _: None)
    assert outcome.ok, outcome.summary
    assert outcome.reports["solution"].score == assignment.max_score == 22
    assert outcome.reports["starter"].score == 0
    for mutant in assignment.mutants:
        report = outcome.reports[f"mutant {mutant.file}"]
        lost = sum(c.max_score for c in report.checks if c.name in mutant.fails)
        assert lost > 0
        assert report.score == pytest.approx(assignment.max_score - lost)


def test_the_notes_worked_example_is_a_visible_check(assignment, tmp_path):
    """The solution reproduces the notes' digits; a step uphill misses w5 and says by how much."""
    (spec,) = [c for c in assignment.checks if c.name == "worked_example"]
    assert not spec.hidden
    src = SOLUTION + "\n\n" + (FOLDER / "mutants" / "sgd_ascent.py").read_text()
    report = grade_source(assignment, tmp_path, src)
    (check,) = [c for c in report.checks if c.name == "worked_example"]
    assert check.status == CheckStatus.FAILED
    # 0.40 + 0.5 * 0.082167041 = 0.44108352: only w5 is wrong, E_total and dE/dw5 are right.
    assert check.message.startswith("w5 after one step at lr 0.5 (notes: 0.35891648): 1 of 1")
    assert "got 0.4410835" in check.message
    assert "E_total" not in check.message


def test_float32_throughout_scores_full_marks(assignment, tmp_path):
    """Every layer computes in float32 and returns float32: judged at float32's resolution,
    the notes' digits included."""
    src = SOLUTION.replace("FLOAT = np.float64", "FLOAT = np.float32")
    assert src != SOLUTION
    report = grade_source(assignment, tmp_path, src)
    assert not_passed(report) == []
    assert report.score == assignment.max_score


OTHER_FORMS = """

def affine_forward(x, w, b):
    # explicit loops, and a cache that is a dict
    x, w, b = np.asarray(x, float), np.asarray(w, float), np.asarray(b, float)
    flat = x.reshape(x.shape[0], -1)
    out = np.zeros((flat.shape[0], w.shape[1]))
    for n in range(flat.shape[0]):
        for m in range(w.shape[1]):
            out[n, m] = sum(flat[n, d] * w[d, m] for d in range(w.shape[0])) + b[m]
    return out, {"x": x, "w": w}


def affine_backward(dout, cache):
    x, w = cache["x"], cache["w"]
    flat = x.reshape(x.shape[0], -1)
    dx = np.zeros_like(flat)
    dw = np.zeros_like(w)
    for n in range(flat.shape[0]):
        dx[n] = w @ dout[n]
        dw += np.outer(flat[n], dout[n])
    return dx.reshape(x.shape), dw, np.sum(dout, axis=0)


def sigmoid_forward(x):
    # the tanh form, caching the input rather than the output
    x = np.asarray(x, float)
    return 0.5 * (1.0 + np.tanh(0.5 * x)), x


def sigmoid_backward(dout, cache):
    s = 0.5 * (1.0 + np.tanh(0.5 * cache))
    return dout * s * (1.0 - s)


def tanh_forward(x):
    x = np.asarray(x, float)
    return 2.0 / (1.0 + np.exp(-2.0 * x)) - 1.0, x


def tanh_backward(dout, cache):
    return dout / np.cosh(cache) ** 2
"""


def test_loops_dict_caches_and_other_forms_score_full_marks(assignment, tmp_path):
    report = grade_source(assignment, tmp_path, SOLUTION + OTHER_FORMS)
    assert not_passed(report) == []
    assert report.score == assignment.max_score


QUIET = """

def _quiet(fn):
    def quiet(*args, **kwargs):
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)

    return quiet


for _name, _fn in list(globals().items()):
    if callable(_fn) and not _name.startswith("_") and not isinstance(_fn, type):
        globals()[_name] = _quiet(_fn)
"""


@pytest.mark.parametrize("file", MUTANTS)
def test_mutants_lose_what_they_declare_under_another_seed_and_errstate_ignore(
    assignment, tmp_path, file
):
    """Another submission seed (so other hidden inputs), and NumPy's error state switched off
    inside the sandbox: a mutant still loses exactly the checks it declares."""
    (mutant,) = [m for m in assignment.mutants if m.file == file]
    src = SOLUTION + "\n\n" + (FOLDER / file).read_text() + QUIET
    report = grade_source(assignment, tmp_path, src, seed=20261130)
    assert report.status == ReportStatus.GRADED
    assert {c.name for c in report.checks if c.status != CheckStatus.PASSED} == set(mutant.fails)


def test_messages_name_the_parameter_and_index(assignment, tmp_path):
    """A transposed dw: the layer check says dw's shape is wrong; the network check names the
    parameter and the index whose value is wrong, and that the student's own loss disagrees."""
    src = SOLUTION + "\n\n" + (FOLDER / "mutants" / "affine_dw_transposed.py").read_text()
    report = grade_source(assignment, tmp_path, src)
    failed = {c.name: c.message for c in report.checks if c.status != CheckStatus.PASSED}
    assert set(failed) == {"affine_backward", "two_layer_net_grads"}
    assert "affine_backward: dw: shape (3, 6), expected (6, 3)" in failed["affine_backward"]
    net = failed["two_layer_net_grads"]
    assert "two_layer_net: grads['W1']: shape (4, 3), expected (3, 4)" in net
    assert "two_layer_net: grads['W2']" in net
    assert "(expected: finite differences of your loss)" in net
    # The correct parts are not blamed.
    assert "grads['b1']" not in net
    assert "grads['b2']" not in net


def test_starter_scores_zero_and_says_what_is_missing(assignment):
    report = grade(assignment, FOLDER / "starter", sandbox="local")
    assert report.score == 0
    assert all(c.status == CheckStatus.ERROR for c in report.checks)
    assert all("NotImplementedError" in c.message for c in report.checks)


def test_sample_submission_loses_the_checks_of_its_mistakes(assignment):
    """examples/sample_submission.py: mostly right, with the mistakes its docstring names."""
    report = grade(assignment, FOLDER / "examples" / "sample_submission.py", sandbox="local")
    assert report.status == ReportStatus.GRADED
    assert {c.name for c in report.checks if c.status != CheckStatus.PASSED} == {
        "tanh_backward",
        "sgd_update",
        "worked_example",
    }
    assert report.score == 17
    assert "debug: sgd_update with lr 0.5" in report.output + report.hidden_output


def test_inputs_follow_the_seed(assignment):
    """Two submission seeds (so two secret hidden seeds): the same mistake is found on other
    inputs, so what one report shows says nothing about the next one's inputs."""
    sample = FOLDER / "examples" / "sample_submission.py"
    messages = []
    for seed in (1, 2):
        report = grade(assignment, sample, sandbox="local", seed=seed)
        (failed,) = [c for c in report.checks if c.name == "tanh_backward"]
        assert failed.status != CheckStatus.PASSED
        messages.append(failed.message)
    assert messages[0] != messages[1]


CONVERTED_AT_THE_END = """

# --- float32 inside, float64 outside: every result converted at the end ---
def _to64(v):
    if isinstance(v, np.ndarray) and v.dtype == np.float32:
        return v.astype(np.float64)
    if isinstance(v, np.floating):
        return float(v)
    if isinstance(v, tuple | list):
        return type(v)(_to64(e) for e in v)
    if isinstance(v, dict):
        return {k: _to64(e) for k, e in v.items()}
    return v


def _converted(fn):
    return lambda *args, **kwargs: _to64(fn(*args, **kwargs))


for _name, _fn in list(globals().items()):
    if callable(_fn) and not _name.startswith("_") and getattr(_fn, "__module__", "") == __name__:
        if not isinstance(_fn, type):
            globals()[_name] = _converted(_fn)
"""


def test_float32_inside_float64_outside_scores_full_marks(assignment, tmp_path):
    """Computed in float32, handed back as float64 (or Python floats): judged at float32's
    resolution, finite differences of the student's own forward included."""
    src = SOLUTION.replace("FLOAT = np.float64", "FLOAT = np.float32") + CONVERTED_AT_THE_END
    report = grade_source(assignment, tmp_path, src)
    assert not_passed(report) == []
    assert report.score == assignment.max_score
