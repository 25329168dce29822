"""A fleet plan against one stack's plan, measured in the same run (prints figures; asserts nothing).

Generates N stacks (tests/fleet_gen.py: all three IdPs, dev and prod) in a temporary project, then times, each as a
fresh ``plaid-ready`` process: ``plan --stack <one of them>`` and ``plan --all`` over the N. Target (issue #21):
200 stacks in at most 25x one stack's time on 2 cores.

    .venv/bin/python benchmarks/fleet_plan.py [--stacks 200] [--jobs N] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fleet_gen import fleet_project, generate_fleet  # noqa: E402


def timed(argv: list[str]) -> tuple[float, int]:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return time.perf_counter() - start, done.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stacks", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--runs", type=int, default=3, help="single-stack runs (the median is used)")
    args = parser.parse_args()
    cli = [sys.executable, "-m", "readiness.cli", "plan"]
    with tempfile.TemporaryDirectory(prefix="fleet-bench-") as tmp:
        project = fleet_project(Path(tmp))
        names = generate_fleet(project, args.stacks)
        one = [*cli, "--stack", names[0], "--dir", str(project), "--summary"]
        timed(one)  # warm: page cache, .pyc, the Lambda package cache under .build/
        singles = []
        for _ in range(args.runs):
            seconds, code = timed(one)
            singles.append(seconds)
            if code != 0:
                raise SystemExit(f"the single-stack plan exited {code}")
        single = statistics.median(singles)
        fleet, code = timed([*cli, "--all", "--dir", str(project), "--jobs", str(args.jobs)])
        if code != 0:
            raise SystemExit(f"the fleet plan exited {code}")
    ratio = fleet / single
    print(f"cores: {os.cpu_count()}, workers: {args.jobs}, stacks: {args.stacks}")
    print(f"one stack (median of {args.runs}, fresh process): {single:.2f} s")
    print(f"fleet of {args.stacks} (plan --all, fresh process):  {fleet:.2f} s ({fleet / args.stacks:.3f} s per stack)")
    print(f"ratio: {ratio:.1f}x one stack's time (target: <= 25x for 200 stacks on 2 cores): "
          f"{'met' if ratio <= 25 else 'NOT met'}")


if __name__ == "__main__":
    main()
