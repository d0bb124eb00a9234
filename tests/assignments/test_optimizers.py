"""The optimizers assignment is sound: the solution, float32 and other stable forms score full
marks, the starter scores zero, and every mutant loses exactly the checks it declares."""

from __future__ import annotations

import pytest

from grader.engine import grade
from grader.messages import CheckStatus, ReportStatus
from tests.assignments import kit
from tests.assignments.kit import CONVERTED_AT_THE_END, grade_source, not_passed

FOLDER = kit.ASSIGNMENTS / "optimizers"
MUTANTS = kit.mutant_files(FOLDER)
SOLUTION = (FOLDER / "solution" / "optimizers.py").read_text()

assignment = kit.assignment_fixture(FOLDER)


validated = kit.validated_fixture()


def test_validate_passes(assignment, validated):
    kit.assert_validates(assignment, 20.5, validated)


def test_momentum_that_moves_w_in_place_fails_at_every_seed(validated):
    """The starter: "Return a new array; do not modify w or dw". Arguments reach the sandbox
    as copies, so only the runner's before/after comparison can see the edit."""
    kit.assert_rule_enforced(
        validated,
        "mutants/sgd_momentum_in_place.py",
        "sgd_momentum_step",
        "modified its input w in place",
    )


@pytest.mark.parametrize("name", ["adagrad", "adam"])
def test_epsilon_inside_the_root_fails_at_every_seed(validated, name):
    """sqrt(cache) + epsilon, as the starter writes it: the step check always holds tiny
    caches (after gradients of 1e-9..1e-7), where sqrt(cache + epsilon) is 1e-4 instead; the
    message shows the state the step started from."""
    state = "cache=" if name == "adagrad" else "v="
    messages = kit.assert_rule_enforced(
        validated,
        f"mutants/{name}_epsilon_inside_sqrt.py",
        f"{name}_step",
        f"{name}: next_w",
        "the step started from the config the grader gave",
        state,
    )
    assert all("epsilon=1e-08" in m for m in messages)


def test_float32_throughout_scores_full_marks(assignment, tmp_path):
    """Steps, whole trajectories, schedules and draws in float32: judged at float32's resolution."""
    src = SOLUTION.replace("FLOAT = np.float64", "FLOAT = np.float32")
    assert src != SOLUTION
    report = grade_source(assignment, tmp_path, src)
    assert not_passed(report) == []
    assert report.score == assignment.max_score


OTHER_FORMS = """

import bisect


def adagrad(w, dw, config=None):
    # element by element, in loops
    config = dict(config or {})
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("epsilon", 1e-8)
    w = np.array(w, dtype=float)
    cache = np.array(config.get("cache", np.zeros_like(w)), dtype=float)
    out = np.empty_like(w)
    for i in np.ndindex(w.shape):
        cache[i] += dw[i] ** 2
        out[i] = w[i] - config["learning_rate"] * dw[i] / (math.sqrt(cache[i]) + config["epsilon"])
    config["cache"] = cache
    return out, config


def nesterov(w, dw, config=None):
    # the look-ahead written out: w - mu v_old + (1 + mu) (-v_new) ...
    config = dict(config or {})
    lr, mu = config.setdefault("learning_rate", 1e-2), config.setdefault("momentum", 0.9)
    v_old = np.asarray(config.get("velocity", np.zeros_like(w)), dtype=float)
    v = mu * v_old + lr * np.asarray(dw, dtype=float)
    config["velocity"] = v
    return np.asarray(w, dtype=float) + mu * v_old - (1 + mu) * v, config


def multistep_decay(lr0, step, milestones, gamma):
    return lr0 * gamma ** bisect.bisect_right(sorted(milestones), step)


def cosine_decay(lr0, step, total_steps):
    rate = lr0 * 0.5 * (1 + np.cos(np.pi * step / total_steps))
    return float(np.where(step < total_steps, rate, 0.0))


def he_normal(fan_in, fan_out, seed):
    # the legacy generator: another stream, the same distribution
    return np.random.RandomState(seed).randn(fan_in, fan_out) * np.sqrt(2.0 / fan_in)


def xavier_uniform(fan_in, fan_out, seed):
    a = np.sqrt(6.0 / (fan_in + fan_out))
    return a * (2.0 * np.random.default_rng(seed).random((fan_in, fan_out)) - 1.0)
"""


def test_loops_other_forms_and_other_generators_score_full_marks(assignment, tmp_path):
    report = grade_source(assignment, tmp_path, SOLUTION + OTHER_FORMS)
    assert not_passed(report) == []
    assert report.score == assignment.max_score


def test_initialisers_pass_under_many_seeds(assignment, tmp_path):
    """The statistical checks hold for correct draws under other seeds too (a false fail has
    probability below 1e-7 per grading, as checks.py states)."""
    for seed in (1, 2, 3):
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
    """Momentum in torch's form: the step names the state entry; the changing-rate path names
    the step; an initialiser with the wrong fan says which statistic and by how much."""
    src = SOLUTION + "\n\n" + (FOLDER / "mutants" / "momentum_torch_convention.py").read_text()
    src += "\n\n" + (FOLDER / "mutants" / "he_normal_fan_out.py").read_text()
    report = grade_source(assignment, tmp_path, src)
    failed = {c.name: c.message for c in report.checks if c.status != CheckStatus.PASSED}
    assert set(failed) == {"sgd_momentum_step", "momentum_changing_lr", "he_normal"}
    assert "sgd_momentum: config['velocity']: 12 of 12 values differ" in failed["sgd_momentum_step"]
    assert (
        "sgd_momentum on a quadratic, lr halving every 4 steps: path[step - 1]"
        in (failed["momentum_changing_lr"])
    )
    assert "nesterov" not in failed["momentum_changing_lr"]
    assert "he_normal(" in failed["he_normal"]
    assert "variance / " in failed["he_normal"]
    assert "(6 standard errors)" in failed["he_normal"]


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
        "adam_step",
        "adam_trajectories",
        "linear_warmup",
    }
    assert report.score == 18
    assert "debug: adam step" in report.output + report.hidden_output


def test_inputs_follow_the_seed(assignment):
    """Two submission seeds (so two secret hidden seeds): the same mistake is found on other
    inputs, so what one report shows says nothing about the next one's inputs."""
    sample = FOLDER / "examples" / "sample_submission.py"
    messages = []
    for seed in (1, 2):
        report = grade(assignment, sample, sandbox="local", seed=seed)
        (failed,) = [c for c in report.checks if c.name == "adam_trajectories"]
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


def test_a_wrong_default_fails_at_every_seed(validated):
    """The starter: config is None on the first call, "then fill in the defaults given below"
    (RMSProp's decay_rate 0.99)."""
    kit.assert_rule_enforced(
        validated,
        "mutants/rmsprop_default_decay_09.py",
        "rmsprop_step",
        "rmsprop(w, dw, None): next_w with the starter's defaults",
    )
