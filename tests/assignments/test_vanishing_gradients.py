"""The vanishing-gradients assignment is sound: the solution, float32 and other forms score
full marks, the starter scores zero, and every mutant loses exactly the checks it declares."""

from __future__ import annotations

import pytest

from grader.engine import grade
from grader.messages import CheckStatus, ReportStatus
from tests.assignments import kit
from tests.assignments.kit import CONVERTED_AT_THE_END, grade_source, not_passed

FOLDER = kit.ASSIGNMENTS / "vanishing-gradients"
MUTANTS = kit.mutant_files(FOLDER)
SOLUTION = (FOLDER / "solution" / "vanishing.py").read_text()

assignment = kit.assignment_fixture(FOLDER)


def test_validate_passes(assignment):
    kit.assert_validates(assignment, 10)


def test_float32_throughout_scores_full_marks(assignment, tmp_path):
    """float32 everywhere, the notes' printed digits included (judged at float32's resolution)."""
    src = SOLUTION.replace("FLOAT = np.float64", "FLOAT = np.float32")
    assert src != SOLUTION
    report = grade_source(assignment, tmp_path, src)
    assert not_passed(report) == []
    assert report.score == assignment.max_score


OTHER_FORMS = """

import math


def sigmoid_chain(a1, w=1.0, b=1.0, target=1.0, units=5):
    # plain Python floats and lists, recursion written with an index
    a = [a1]
    for _ in range(units):
        a.append(1.0 / (1.0 + math.exp(-(w * a[-1] + b))))
    d = [0.0] * units
    d[-1] = a[-1] - target
    for k in range(units - 2, -1, -1):
        d[k] = w * d[k + 1] * a[k + 1] * (1.0 - a[k + 1])
    return a, d


def gradient_norms(x, y, weights, biases, activation):
    # np.linalg.norm, and the derivative taken from z for both activations
    acts, pre = [np.asarray(x, float)], []
    for i, (w, b) in enumerate(zip(weights, biases)):
        z = acts[-1] @ w + b
        pre.append(z)
        last = i == len(weights) - 1
        hidden = 1 / (1 + np.exp(-z)) if activation == "sigmoid" else z * (z > 0)
        acts.append(z if last else hidden)
    g = (acts[-1] - y) / len(x)
    out = []
    for i in reversed(range(len(weights))):
        out.insert(0, np.linalg.norm(acts[i].T @ g))
        if i:
            z = pre[i - 1]
            s = 1 / (1 + np.exp(-z))
            g = g @ np.asarray(weights[i]).T * (s * (1 - s) if activation == "sigmoid" else z > 0)
    return np.array(out)


def vanishing_experiment(depth, width, seed):
    # the legacy generator: other draws, the same experiment
    rs = np.random.RandomState(seed)
    x, y = rs.randn(64, width), rs.randn(64, 1)
    out = {}
    for act, var in (("sigmoid", lambda fo: 2.0 / (width + fo)), ("relu", lambda fo: 2.0 / width)):
        fans = [width] * (depth - 1) + [1]
        ws = [rs.randn(width, fo) * np.sqrt(var(fo)) for fo in fans]
        out[act] = gradient_norms(x, y, ws, [np.zeros(fo) for fo in fans], act)
    return out
"""


def test_other_forms_lists_and_another_generator_score_full_marks(assignment, tmp_path):
    report = grade_source(assignment, tmp_path, SOLUTION + OTHER_FORMS)
    assert not_passed(report) == []
    assert report.score == assignment.max_score


def test_the_experiment_holds_under_other_seeds(assignment, tmp_path):
    """The ratio bounds are far from what correct draws give (checks.py states the margins):
    other submission seeds, so other experiment seeds, still pass."""
    for seed in (1, 2, 3, 4):
        report = grade_source(assignment, tmp_path, SOLUTION, seed=seed)
        assert not_passed(report) == []


@pytest.mark.parametrize("file", MUTANTS)
def test_mutants_lose_what_they_declare_under_another_seed_and_errstate_ignore(
    assignment, tmp_path, file
):
    """Another submission seed (so other hidden inputs), and NumPy's error state switched off
    inside the sandbox: a mutant still loses exactly the checks it declares."""
    kit.assert_mutant_loses_what_it_declares(assignment, tmp_path, SOLUTION, file)


def test_messages_locate_the_error(assignment, tmp_path):
    """The strict output delta: the notes' numbers are named with what came back instead; the
    copy-pasted experiment: the ReLU ratio is shown against its range."""
    src = SOLUTION + "\n\n" + (FOLDER / "mutants" / "chain_strict_output_delta.py").read_text()
    src += "\n\n" + (FOLDER / "mutants" / "experiment_relu_net_with_sigmoid.py").read_text()
    report = grade_source(assignment, tmp_path, src)
    failed = {c.name: c.message for c in report.checks if c.status != CheckStatus.PASSED}
    assert set(failed) == {"notes_chain", "chain_random", "experiment"}
    notes = failed["notes_chain"]
    assert "delta6 (notes: -0.134009853): 1 of 1 values differ" in notes
    assert "got -0.01555" in notes  # (a6 - 1) a6 (1 - a6) = -0.0155...
    assert not any(line.startswith("a6 (notes") for line in notes.splitlines())  # a6 is right
    assert "got -0.001805" in notes  # delta5 follows: the tests/reference docstring's number
    assert "ReLU (He) first/last layer norm ratio" in failed["experiment"]
    assert "expected within [0.01, 100]" in failed["experiment"]
    assert "sigmoid first/last" not in failed["experiment"]


def test_starter_scores_zero_and_says_what_is_missing(assignment):
    report = grade(assignment, FOLDER / "starter", sandbox="local")
    assert report.score == 0
    assert all(c.status == CheckStatus.ERROR for c in report.checks)
    assert all("NotImplementedError" in c.message for c in report.checks)


def test_sample_submission_loses_the_checks_of_its_mistakes(assignment):
    """examples/sample_submission.py: mostly right, with the mistakes its docstring names."""
    report = grade(assignment, FOLDER / "examples" / "sample_submission.py", sandbox="local")
    assert report.status == ReportStatus.GRADED
    assert {c.name for c in report.checks if c.status != CheckStatus.PASSED} == {"chain_random"}
    assert report.score == 9
    assert "debug: experiment 10 64" in report.output + report.hidden_output


def test_inputs_follow_the_seed(assignment):
    """Two submission seeds (so two secret hidden seeds): the same mistake is found on other
    inputs, so what one report shows says nothing about the next one's inputs."""
    sample = FOLDER / "examples" / "sample_submission.py"
    messages = []
    for seed in (1, 2):
        report = grade(assignment, sample, sandbox="local", seed=seed)
        (failed,) = [c for c in report.checks if c.name == "chain_random"]
        assert failed.status != CheckStatus.PASSED
        messages.append(failed.message)
    assert messages[0] != messages[1]


def test_float32_inside_float64_outside_scores_full_marks(assignment, tmp_path):
    """Computed in float32, handed back as float64 (or Python floats): judged at float32's
    resolution, finite differences of the student's own forward included."""
    src = SOLUTION.replace("FLOAT = np.float64", "FLOAT = np.float32") + CONVERTED_AT_THE_END
    report = grade_source(assignment, tmp_path, src)
    assert not_passed(report) == []
    assert report.score == assignment.max_score
