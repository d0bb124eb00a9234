"""The manifest's strict, typed schema (issue 9): every error names its key, every key has
one default, and every setting that exists is honoured ([tolerances] included).

Manifests are written here by hand; the expected messages and defaults are written out
literally, never read back from grader.assignment's table.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest

from grader.assignment import SCHEMA, AssignmentError, load_assignment
from grader.engine import CheckContext, grade, run_check
from grader.messages import CheckStatus
from grader.sandbox.local import bwrap_path
from tests.conftest import require

REPO = Path(__file__).resolve().parents[2]

MINIMAL = """\
slug = "tiny"

[submission]
files = ["tiny.py"]
"""
HEAD = 'slug = "tiny"\n[submission]\n'  # MINIMAL without its files


def submission(extra: str) -> str:
    """MINIMAL with more keys in [submission]."""
    return MINIMAL + extra + "\n"


CHECKS = """\
import numpy as np

from grader.checks import check, compare


@check(points=1)
def doubled(student, rng):
    \"\"\"double(x) = 2 x, compared without tolerances of its own: the manifest's apply.\"\"\"
    x = np.array([1.0, 2.0, 3.0])
    return compare(student.double(x), 2 * x, name="double(x)")
"""


def folder(tmp_path: Path, manifest: str, checks: str = CHECKS) -> Path:
    root = tmp_path / "tiny"
    root.mkdir(parents=True, exist_ok=True)
    (root / "assignment.toml").write_text(textwrap.dedent(manifest))
    (root / "checks.py").write_text(checks)
    return root


def error_of(tmp_path: Path, manifest: str) -> str:
    with pytest.raises(AssignmentError) as err:
        load_assignment(folder(tmp_path, manifest))
    return str(err.value)


# -- each kind of error names its key ------------------------------------------------------


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        (
            'slug = "tiny"\ntitel = "Tiny"\n[submission]\nfiles = ["tiny.py"]\n',
            "unknown key 'titel' at the top level (known: slug, title, version, summary, "
            "environment, queue, cpu_fallback); did you mean 'title'?",
        ),
        (
            MINIMAL + "[limits]\nmemry_mb = 512\n",
            "unknown key 'limits.memry_mb' in [limits]",
        ),
        (
            MINIMAL + "[limits]\ngpu = true\n",  # read and ignored before: now refused
            "unknown key 'limits.gpu' in [limits]",
        ),
        (MINIMAL + "[limts]\ncpus = 1\n", "unknown key 'limts' at the top level"),
        (
            MINIMAL + "[limits]\nmemory_mb = \"512\"\n",
            "'limits.memory_mb' must be an integer, not str '512'",
        ),
        (MINIMAL + "[limits]\nmemory_mb = 512.5\n", "'limits.memory_mb' must be an integer"),
        (MINIMAL + "[limits]\npids = true\n", "'limits.pids' must be an integer, not bool True"),
        (MINIMAL + "[limits]\ncall_seconds = 0\n", "'limits.call_seconds' must be positive, not 0"),
        (MINIMAL + "[tolerances]\nrtol = -1e-7\n", "'tolerances.rtol' must be at least 0"),
        (
            'queue = "gpus"\n' + MINIMAL,
            "'queue' must be one of 'cpu', 'gpu', not 'gpus'",
        ),
        (
            'environment = "tensorflow"\n' + MINIMAL,
            "'environment' must be one of 'numpy', 'torch', not 'tensorflow'",
        ),
        ("cpu_fallback = true\n" + MINIMAL, "'cpu_fallback' needs queue = 'gpu'"),
        ('title = "Tiny"\n[submission]\nfiles = ["tiny.py"]\n', "missing 'slug' at the top level"),
        (HEAD + 'module = "tiny"\n', "missing 'submission.files' in [submission]"),
        (HEAD + 'files = "tiny.py"\n', "'submission.files' must be a list of strings"),
        (
            submission('mode = "exec"'),
            "'submission.mode' must be one of 'import', 'script', not 'exec'",
        ),
        (
            submission('rate_limit = "30 per hour"'),
            "'submission.rate_limit' must be a rate \"COUNT/SECONDS\"",
        ),
        (
            submission('entry = "other.py"'),
            "'submission.entry' must be one of submission.files, not 'other.py'",
        ),
        (MINIMAL + '[deadlines]\ndue = "next friday"\n', "'deadlines.due' must be a date-time"),
        (
            MINIMAL + '[data]\nlinks = { data = "../../etc" }\n',
            "'data.links.data' must stay under data/",
        ),
        (
            MINIMAL + '[[mutants]]\nwhy = "no file"\n',
            "missing 'mutants.file' in [[mutants]] entry 1",
        ),
        (
            MINIMAL + '[[mutants]]\nfile = "m.py"\nfail = ["doubled"]\n',
            "unknown key 'mutants.fail' in [[mutants]] entry 1 (known: file, fails, why, hint); "
            "did you mean 'fails'?",
        ),
        (
            MINIMAL + '[[mutants]]\nfile = "m.py"\nfails = "doubled"\n',
            "'mutants.fails' must be a list of strings",
        ),
        ("slug = 3\n[submission]\nfiles = [\"tiny.py\"]\n", "'slug' must be a string, not int 3"),
        ("limits = 3\n" + MINIMAL, "'limits' must be a table ([limits]), not int"),
    ],
)  # fmt: skip
def test_each_manifest_error_names_its_key(tmp_path: Path, manifest: str, message: str) -> None:
    assert message in error_of(tmp_path, manifest)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = error_of(tmp_path, 'queue = "gpus"\n' + MINIMAL + '[limits]\nmemry_mb = 1\ncpus = "2"\n')
    assert text.startswith("assignment.toml: ")
    for key in ("'queue'", "'limits.memry_mb'", "'limits.cpus'"):
        assert key in text


# -- one default per key, and the existing manifests all read ---------------------------------


def test_a_minimal_manifest_takes_each_default(tmp_path: Path) -> None:
    a = load_assignment(folder(tmp_path, MINIMAL))
    assert (a.title, a.version, a.summary, a.environment, a.queue) == (
        "tiny",
        1,
        "",
        "numpy",
        "cpu",
    )
    assert (a.load.file, a.load.module, a.load.mode, a.load.global_name) == (
        "tiny.py", "tiny", "import", None
    )  # fmt: skip
    assert (a.total_seconds, a.load.seconds, a.call_seconds) == (300.0, 30.0, 10.0)
    assert a.time_limits(gpu=True) == (300.0, 30.0, 10.0) and a.gpu_seconds is None
    lim = a.limits
    assert (lim.memory_mb, lim.cpus, lim.pids, lim.tmpfs_mb, lim.output_bytes) == (
        1024, 1.0, 64, 64, 64 * 1024
    )  # fmt: skip
    # CPU time: (total_seconds + 60) x cpus, with the one default of total_seconds (300),
    # not the 600 a second default once gave it here.
    assert lim.cpu_seconds == 360
    assert a.tolerances == {"rtol": 1e-7, "atol": 1e-9}
    assert (a.due, a.hidden_release, a.mutants, a.cpu_fallback) == (None, None, (), False)


def test_gpu_limits_default_to_the_cpu_ones_key_by_key(tmp_path: Path) -> None:
    manifest = (
        'queue = "gpu"\n'
        + MINIMAL
        + (
            "[limits]\ntotal_seconds = 900\nload_seconds = 100\ncall_seconds = 20\n"
            "gpu_total_seconds = 60\n"
        )
    )
    a = load_assignment(folder(tmp_path, manifest))
    assert a.time_limits(gpu=True) == (60.0, 100.0, 20.0)
    assert a.time_limits(gpu=False) == (900.0, 100.0, 20.0)


def test_every_manifest_in_the_repository_reads(tmp_path: Path) -> None:
    """Every key the existing assignments and test fixtures use is in the schema."""
    manifests = sorted(REPO.glob("assignments/*/assignment.toml")) + sorted(
        REPO.glob("tests/**/assignment.toml")
    )
    assert len(manifests) >= 6
    for path in manifests:
        load_assignment(path.parent)  # raises AssignmentError naming any key it refuses


def test_no_shipped_manifest_carries_a_date() -> None:
    """A fixed date in a shipped folder expires: the course (or the demo) dates it."""
    for path in sorted(REPO.glob("assignments/*/assignment.toml")):
        spec = load_assignment(path.parent)
        assert (spec.due, spec.hidden_release) == (None, None), path


def test_keys_other_packages_read_are_in_the_schema() -> None:
    """worker/submit.py and web/grades.py read these from the raw manifest."""
    names = {k.name for k in SCHEMA}
    assert {"submission.rate_limit", "submission.counts", "submission.files"} <= names


def test_the_schema_declares_each_key_once() -> None:
    names = [k.name for k in SCHEMA]
    assert len(names) == len(set(names))
    assert all(k.meaning.strip() for k in SCHEMA)


# -- [tolerances] are honoured -----------------------------------------------------------------


class _Answers:
    """A stand-in for the student proxy: double(x) off by 1e-5 relative."""

    def double(self, x: np.ndarray) -> np.ndarray:
        return 2 * x * (1 + 1e-5)


def _run(assignment) -> tuple[CheckStatus, str]:
    spec = assignment.checks[0]
    ctx = CheckContext(assignment, lambda _: None)
    status, _, message, _ = run_check(spec, _Answers(), np.random.default_rng(0), ctx)
    return status, message


def test_compare_takes_the_manifests_tolerances(tmp_path: Path) -> None:
    loose = load_assignment(folder(tmp_path, MINIMAL + "[tolerances]\nrtol = 1e-4\natol = 0\n"))
    assert _run(loose) == (CheckStatus.PASSED, "double(x): all 3 values within rtol=0.0001, atol=0")
    strict = load_assignment(folder(tmp_path / "strict", MINIMAL))
    status, message = _run(strict)
    assert status == CheckStatus.FAILED and message.endswith("rtol=1e-07, atol=1e-09)")


def test_a_checks_own_tolerance_wins_over_the_manifests(tmp_path: Path) -> None:
    own = CHECKS.replace('name="double(x)")', 'name="double(x)", rtol=1e-9, atol=0)')
    a = load_assignment(folder(tmp_path, MINIMAL + "[tolerances]\nrtol = 1e-4\n", own))
    status, message = _run(a)
    assert status == CheckStatus.FAILED and message.endswith("rtol=1e-09, atol=0)")


def test_the_manifests_tolerances_hold_in_a_real_grading(tmp_path: Path) -> None:
    require(bwrap_path() is not None, "bubblewrap", "apt-get install bubblewrap")
    sub = tmp_path / "tiny.py"
    sub.write_text("def double(x):\n    return 2 * x * (1 + 1e-5)\n")
    loose = load_assignment(folder(tmp_path, MINIMAL + "[tolerances]\nrtol = 1e-4\n"))
    assert grade(loose, sub, sandbox="local").score == 1.0
    strict = load_assignment(folder(tmp_path / "strict", MINIMAL))
    assert grade(strict, sub, sandbox="local").score == 0.0
