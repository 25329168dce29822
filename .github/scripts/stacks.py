"""List the stacks in stacks/ for the workflows' matrices, split into prod and non-prod.

    python3 .github/scripts/stacks.py [STACK_DIR]   ->  lines for $GITHUB_OUTPUT: all=[...] prod=[...] nonprod=[...]

Standard library only (it runs before any install). A stack is non-prod only when its file says, in plain
form, ``plaid-ready-idp:environment: dev`` or ``staging``; anything else (prod, a quoted or unusual
form, no environment at all) counts as prod: the prod rules (an environment with required reviewers)
apply unless the file plainly says otherwise.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

NAME = re.compile(r"^Pulumi\.([A-Za-z0-9._-]{1,100})\.yaml$")
NON_PROD = re.compile(r"^  plaid-ready-idp:environment: (dev|staging)[ \t]*(#.*)?$", re.MULTILINE)


def classify(stack_dir: Path) -> dict[str, list[str]]:
    """{"all": [...], "prod": [...], "nonprod": [...]}, each sorted. Files with unusual names are skipped."""
    out: dict[str, list[str]] = {"all": [], "prod": [], "nonprod": []}
    for path in sorted(stack_dir.glob("Pulumi.*.yaml")):
        match = NAME.match(path.name)
        if match is None:
            continue
        name = match.group(1)
        out["all"].append(name)
        out["nonprod" if NON_PROD.search(path.read_text()) else "prod"].append(name)
    return out


def main(argv: list[str]) -> int:
    stack_dir = Path(argv[0]) if argv else Path("stacks")
    for key, names in classify(stack_dir).items():
        print(f"{key}={json.dumps(names)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
