"""The running stack at a deadline: 200 activations gradings with 1, 2 and 3 worker containers.

    python bench/bench_stack.py [--submissions 200] [--workers 1,2,3]

Brings up a compose project of its own (docker-compose.yml, images from
``dlgrade images build --services``), each worker container grading one
submission at a time, then for each worker count enqueues SUBMISSIONS
activations solutions at once (20 students, so the fairness window never holds
the queue back) and times the first submit to the last report. Printed side by
side: gradings per minute, per worker container, and the ideal per worker,
60 / t, where t is the engine's own median time per grading in that round
(``environment.wall_seconds`` of the reports: the sandbox and the checks, without
the queue, the database or Celery). The ratio is what the stack costs around
the engine; on a machine with fewer cores than workers it also shows the cores
running out.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.deploy.stack import Stack, as_json, engine_answers, free_port, web_python

ROUND = """
N, TAG = __N__, __TAG__
import json, statistics, time
from grader.assignment import load_assignment
from sqlalchemy import func, select
from worker.app import publisher
from worker.config import load_settings
from worker.db import get_engine
from worker.models import GradeReport
from worker.submit import submit

settings = load_settings()
spec = load_assignment("/srv/dlgrade/assignments/activations")
solution = "/srv/dlgrade/assignments/activations/solution/activations.py"
publish = publisher(settings)
t0 = time.time()
ids = [submit(spec, solution, f"bench{TAG}-s{i % 20}", settings, publish).submission_id
       for i in range(N)]
engine = get_engine(settings.database_url)
while True:
    with engine.connect() as conn:
        rows = conn.execute(select(GradeReport.report)
                            .where(GradeReport.submission_id.in_(ids))).scalars().all()
    if len(rows) >= N:
        break
    time.sleep(0.5)
t1 = time.time()
engine_s = [r["environment"]["wall_seconds"] for r in rows]
print(json.dumps({"elapsed": t1 - t0, "n": len(rows), "engine_median": statistics.median(engine_s),
                  "scores": sorted({r["score"] for r in rows})}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument("--workers", default="1,2,3")
    args = parser.parse_args()
    if not engine_answers() or not shutil.which("docker-compose"):
        print("needs a Docker engine and docker-compose (scripts/bootstrap.sh --test)")
        return 2
    project = f"dlgrade-bench-{os.getpid()}"
    scratch = Path(f"/var/tmp/{project}-scratch")
    scratch.mkdir(parents=True, exist_ok=True)
    stack = Stack(project, free_port(), scratch, Path(tempfile.mkdtemp(prefix="dlgrade-bench-")))
    rows = []
    try:
        stack.up()
        for n in (int(x) for x in args.workers.split(",")):
            stack.compose("up", "-d", "--scale", f"worker-cpu={n}", "worker-cpu")
            time.sleep(10)  # the new containers connect to the broker
            code = ROUND.replace("__N__", str(args.submissions)).replace("__TAG__", repr(str(n)))
            result = as_json(web_python(stack, code))
            rows.append((n, result))
            print(f"{n} worker(s): {result}", flush=True)
    finally:
        stack.compose("down", "-v", "--remove-orphans", check=False, timeout=300)
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"\n{args.submissions} activations gradings (45 checks each), worker containers of "
          f"concurrency 1, {os.cpu_count()} cores")  # fmt: skip
    print(f"{'workers':>7} {'per min':>8} {'per worker':>10} {'engine t':>9} "
          f"{'ideal/worker':>12} {'ratio':>6}")  # fmt: skip
    for n, r in rows:
        per_min = r["n"] / r["elapsed"] * 60
        ideal = 60 / r["engine_median"]
        print(f"{n:>7} {per_min:>8.1f} {per_min / n:>10.1f} {r['engine_median']:>8.2f}s "
              f"{ideal:>12.1f} {per_min / n / ideal:>6.2f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
