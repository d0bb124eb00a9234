"""Hunt for the checks, the solution and the reference library, and cheat with what turns up.

Tries the host's absolute paths (filled in by the test), relative climbs out of
the working folder, other processes' views through /proc, and a walk of the
whole file system for files that look like an assignment's. Everything found
is printed ("FOUND ..."); if the solution turns up, its functions are used.
Otherwise the answers are wrong, so the score is 0 exactly when nothing leaks.
"""

import os
import time

# Split so that this file, which the sandbox legitimately holds, does not match itself.
SECRETS = (
    "dlgrade-redteam-secret-" + "checks-8c41f0",
    "dlgrade-redteam-secret-" + "solution-27d9e3",
    "def " + "relu_grad",
)
CANDIDATES = [
    "@@FIXTURE@@/checks.py",
    "@@FIXTURE@@/solution/redteam.py",
    "@@FIXTURE@@/assignment.toml",
    "@@REPO@@/reference/activations.py",
    "@@REPO@@/assignments/activations/checks.py",
    "@@REPO@@/assignments/activations/solution/activations.py",
    "../checks.py",
    "../../checks.py",
    "../solution/redteam.py",
    "/sandbox/checks.py",
    "/sandbox/solution/redteam.py",
    "/sandbox/../checks.py",
    "/proc/1/cwd/checks.py",
    "/proc/1/root@@FIXTURE@@/checks.py",
    "/proc/self/root@@FIXTURE@@/checks.py",
]
NAMES = {"checks.py", "assignment.toml", "activations.py", "redteam.py", "gradcheck.py"}
# Bulky system folders that hold nothing of ours; skipping them keeps the walk
# inside the time limit (it is still cut short, and says so, after 1.5 s).
SKIP = {"/proc", "/sys", "/dev", "/usr/share", "/usr/include", "/usr/src",
        "/usr/lib/x86_64-linux-gnu", "/usr/lib/jvm", "/usr/libexec"}  # fmt: skip
WALK_SECONDS = 1.5

stolen = {}


def _look(path: str) -> None:
    try:
        with open(path, "rb") as fh:
            text = fh.read(1 << 20).decode("utf-8", "replace")
    except OSError:
        return
    if any(secret in text for secret in SECRETS):
        print("FOUND", path)
        stolen[path] = text


for path in CANDIDATES:
    _look(path)
for pid in os.listdir("/proc"):
    if pid.isdigit():
        for rel in ("cwd/checks.py", "root@@FIXTURE@@/checks.py",
                    "root@@REPO@@/reference/activations.py"):  # fmt: skip
            _look(f"/proc/{pid}/{rel}")
seen = 0
walk_ends = time.monotonic() + WALK_SECONDS
for top, dirs, files in os.walk("/", onerror=lambda err: None):
    if time.monotonic() > walk_ends:
        print("walk cut short at", top)
        break
    if top in SKIP:
        dirs[:] = []
        continue
    for name in files:
        seen += 1
        if name in NAMES and not top.startswith("/sandbox/runner"):
            _look(os.path.join(top, name))
else:
    print("walk complete")
print(f"walked {seen} files; found {len(stolen)} secret file(s)")

solution = {}
for text in stolen.values():
    if "def square" in text:
        exec(compile(text, "stolen", "exec"), solution)


def square(x):
    return solution["square"](x) if "square" in solution else -x


def add(a, b):
    return solution["add"](a, b) if "add" in solution else a - b


def center(x):
    return solution["center"](x) if "center" in solution else x


def total(x):
    return solution["total"](x) if "total" in solution else -1.0
