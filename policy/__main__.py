"""The plaid-ready-idp CrossGuard pack: `pulumi preview --policy-pack policy`.

Building the pack starts Pulumi's policy gRPC server and blocks: this file only builds it. The
policies themselves live in policy/policies.py (importable, tested).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import PolicyPack  # noqa: E402

from policy.policies import policies  # noqa: E402

PolicyPack(name="plaid-ready-idp", policies=policies())
