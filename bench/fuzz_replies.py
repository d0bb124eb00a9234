"""Fuzz the trusted side's reading of what the sandbox sends, over a million inputs.

    python bench/fuzz_replies.py [--count 1000000] [--seed 0]

Each input is a frame as the sandbox could write it: random bytes, honest
replies with bytes flipped, cut, inserted or set to huge lengths, and
reply-shaped data whose fields are mostly right and sometimes anything at all
(tests/grader/test_replies.py: ``random_frames``). Each goes through the
trusted side's whole reading path (``receive``): frame, codec, reply schema,
and a report built from the result. The only outcomes allowed are a usable
reply or the submission's fault; any other exception, a platform error, an
unbounded text or a report that is not strict JSON under 1 MB stops the run
and names the input (seed and index), which the same seed reproduces.

Prints the number of inputs, how each ended, and the time taken.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.grader.test_replies import random_frames, receive  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10**6)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    outcomes: Counter[str] = Counter()
    started = time.monotonic()
    for index, (frame, op) in enumerate(random_frames(args.seed, args.count)):
        try:
            outcomes[receive(frame, op)] += 1
        except BaseException as exc:
            print(
                f"FAILED at input {index} (seed {args.seed}, op {op!r}, {len(frame)} bytes): "
                f"{type(exc).__name__}: {str(exc)[:500]}"
            )
            print(f"frame: {frame[:200]!r}")
            return 1
        if (index + 1) % 100_000 == 0:
            print(f"  {index + 1} inputs, {time.monotonic() - started:.0f} s", flush=True)
    seconds = time.monotonic() - started
    total = sum(outcomes.values())
    print(f"fuzzed {total} inputs (seed {args.seed}) in {seconds:.1f} s ({total / seconds:.0f}/s):")
    for outcome, n in outcomes.most_common():
        print(f"  {outcome:<20} {n}")
    print("no crash, no platform error, every report strict JSON under 1 MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
