"""Every test under tests/grader runs under a trace of the signals this process sends.

The host is never touched: a pid the grader has reaped belongs to whoever the
kernel gives it to next (pid_max is 32768 on these machines), so a signal to it
may kill a database, a worker, or a shell's whole process group. The autouse
fixture ``signal_trace`` wraps every way this process can reap a child
(``os.waitpid`` and friends, and ``Popen``'s own bookkeeping, which binds
``os.waitpid`` early) and every way it can aim a signal by number
(``os.kill``, ``os.killpg``, ``os.pidfd_open``), and fails the test when a
signal, or a pidfd, went to a pid after it was reaped here and before this
process started a child of its own with that number again.

One exception, with its reason: ``os.pidfd_open`` on a pid that is, at that
moment, a member of a dlgrade sandbox cgroup. That is how a cgroup v1 kill
reaches a submission's processes (open a pidfd, then confirm the pid is still in
the group): a process the kernel gave a recycled number to, inside the
submission's own group, is the submission's.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.grader.signal_trace import REPORT_DIR_VARIABLE, SignalTrace, install

SITE = Path(__file__).resolve().parent / "signal_trace_site"


@pytest.fixture(autouse=True)
def signal_trace(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SignalTrace]:
    """Fails the test if any signal (or pidfd) went to a pid after this process reaped it.

    Python subprocesses the test starts (the grader's CLI) are traced too: they
    inherit a PYTHONPATH whose sitecustomize installs the same trace and writes
    what it saw when the subprocess exits.
    """
    trace = SignalTrace()
    install(trace, monkeypatch.setattr)
    reports = tmp_path_factory.mktemp("signal-trace")
    monkeypatch.setenv(REPORT_DIR_VARIABLE, str(reports))
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(SITE), os.environ.get("PYTHONPATH")]))
    )
    yield trace
    violations = list(trace.violations)
    for report in sorted(reports.glob("*.json")):
        child = json.loads(report.read_text())
        violations += [f"(subprocess {child['pid']}) {v}" for v in child["violations"]]
    if violations:
        pytest.fail(
            "signals to reaped pids (a recycled pid may be anyone's):\n  "
            + "\n  ".join(violations[:20]),
            pytrace=False,
        )


@pytest.fixture
def many_descriptors() -> Iterator[list[int]]:
    """This process holds over 1024 open descriptors, as a long-lived worker or test run may."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 2048
    if hard != resource.RLIM_INFINITY and hard < want:
        pytest.skip(f"the descriptor limit here is {hard}, below {want}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        assert max(held) >= 1024
        yield held
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
