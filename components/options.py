"""Resource options that follow the stack's environment, as pure functions (unit-tested directly).

Prod stacks protect stateful resources (identity stores, clients, APIs, secrets, keys) and keep long
deletion windows; dev and staging stay easy to tear down and recreate.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import pulumi

from components.settings import Environment

#: Secrets Manager recovery window (days). 0 = delete at once, so a dev stack can be destroyed and
#: recreated under the same secret name; AWS allows 0 or 7-30.
SECRET_RECOVERY_DAYS: Final = {Environment.DEV: 0, Environment.STAGING: 7, Environment.PROD: 30}
#: KMS key deletion window (days); AWS allows 7-30.
KMS_DELETION_DAYS: Final = {Environment.DEV: 7, Environment.STAGING: 7, Environment.PROD: 30}


def child(parent: pulumi.Resource, *, stateful: bool = False, protect: bool = False,
          depends_on: Sequence[pulumi.Resource] | None = None,
          additional_secret_outputs: list[str] | None = None,
          ignore_changes: list[str] | None = None) -> pulumi.ResourceOptions:
    """Options for a component's child. ``protect`` applies only to stateful children, so protecting a
    prod stack never freezes a stateless Lambda or stage."""
    return pulumi.ResourceOptions(parent=parent, protect=bool(stateful and protect), depends_on=depends_on,
                                  additional_secret_outputs=additional_secret_outputs, ignore_changes=ignore_changes)
