"""Offline-plan cost against its floor: importing pulumi and the provider SDKs the program uses.

Prints figures; asserts nothing (house rule 6). Target: the warm plan of the example stack adds under
1 s to the imports. Each figure is the median of N fresh interpreters, measured in this same run.

    .venv/bin/python benchmarks/bench_plan.py [--stack auth0-example] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The floor: what any Pulumi program using these providers pays before declaring anything.
# pulumi_aws loads its submodules lazily, on first attribute use: touch one class in each the program uses.
IMPORTS = (
    "import pulumi, pulumi_aws as aws, pulumi_auth0, pulumi_random, pydantic, yaml\n"
    "(aws.kms.Key, aws.secretsmanager.Secret, aws.iam.Role, aws.lambda_.Function, aws.apigateway.RestApi,\n"
    " aws.wafv2.WebAcl, aws.cloudwatch.MetricAlarm, aws.sns.Topic, pulumi_auth0.Client, pulumi_random.RandomBytes)\n"
)


def timed(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def median(argv: list[str], runs: int) -> float:
    timed(argv)  # warm: page cache, .pyc, the Lambda package cache under .build/
    return statistics.median(timed(argv) for _ in range(runs))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stack", default="auth0-example")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    py = sys.executable
    empty = median([py, "-c", "pass"], args.runs)
    imports = median([py, "-c", IMPORTS], args.runs)
    plan = median([py, "-m", "readiness.cli", "plan", "--stack", args.stack], args.runs)
    print(f"interpreter start         {empty * 1000:8.0f} ms")
    print(f"imports (floor)           {imports * 1000:8.0f} ms")
    print(f"plan --stack {args.stack:<12} {plan * 1000:8.0f} ms")
    print(f"plan adds to the imports  {(plan - imports) * 1000:8.0f} ms   (target < 1000 ms)")
    print(f"plan / imports ratio      {plan / imports:8.2f}x")


if __name__ == "__main__":
    main()
