"""Before `pulumi up`: each stack's GitHub environment exists, and a prod stack's has required reviewers.

    python3 .github/scripts/verify_environment.py STACK [STACK...]

Reads GitHub's REST API (``GET /repos/{owner}/{repo}/environments/{name}``) with ``GH_TOKEN`` (a token
with ``actions: read``), ``GITHUB_REPOSITORY`` and ``GITHUB_API_URL`` from the Actions environment.
Exits 1, with one ``::error::`` line per stack, when an environment is missing (a job that names a
missing environment makes GitHub create it on the fly, without reviewers) or when a prod stack's
environment has no required-reviewers rule with at least one reviewer. Standard library only.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stacks import classify  # noqa: E402

TIMEOUT_SECONDS = 20


def judge(stack: str, prod: bool, environment: dict | None) -> str | None:
    """Why ``stack`` must not deploy (None: it may). ``environment``: the API's answer, None for 404."""
    if environment is None:
        return (f"stack {stack}: no GitHub environment '{stack}'. Create it (Settings > Environments) before "
                "merging a new stack" + (", with required reviewers" if prod else "")
                + ": a job that names a missing environment makes GitHub create it on the fly, without reviewers")
    if not prod:
        return None
    rules = environment.get("protection_rules") or []
    reviewers = [r for r in rules if isinstance(r, dict) and r.get("type") == "required_reviewers"
                 and r.get("reviewers")]
    if not reviewers:
        return (f"stack {stack}: its environment '{stack}' has no required reviewers; a prod stack deploys only "
                "behind reviewers: add them (Settings > Environments > Required reviewers)")
    return None


def fetch(api: str, repo: str, name: str, token: str) -> dict | None:
    url = f"{api.rstrip('/')}/repos/{repo}/environments/{urllib.parse.quote(name, safe='')}"
    req = urllib.request.Request(url, headers={  # noqa: S310 - the Actions API URL
        "Accept": "application/vnd.github+json", "Authorization": f"Bearer {token}",
        "X-GitHub-Api-Version": "2022-11-28"})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT_SECONDS) as resp:  # noqa: S310
            return json.loads(resp.read().decode())
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise


def main(argv: list[str]) -> int:
    api, repo, token = (os.environ.get(k, "") for k in ("GITHUB_API_URL", "GITHUB_REPOSITORY", "GH_TOKEN"))
    if not (api and repo and token and argv):
        print("::error::usage: GH_TOKEN, GITHUB_REPOSITORY, GITHUB_API_URL set; stack names as arguments")
        return 2
    prod = set(classify(Path(os.environ.get("STACK_DIR", "stacks")))["prod"])
    failed = False
    for stack in argv:
        try:
            problem = judge(stack, stack in prod, fetch(api, repo, stack, token))
        except (OSError, ValueError) as exc:
            problem = f"stack {stack}: could not read its environment from GitHub ({type(exc).__name__})"
        if problem:
            print(f"::error::{problem}")
            failed = True
        else:
            print(f"stack {stack}: environment '{stack}' verified" + (" (required reviewers)" if stack in prod else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
