"""The four stages of ``plaid-ready check``, in the order they run (Plaid's own order: it reads the discovery
document, then the keys, logs in, then calls the API). Each stage module registers its checks
(readiness.check.registry); adding a check is one decorated function in its stage's module and its row in
docs/check.md."""

from __future__ import annotations

from typing import Final

from readiness.check.model import CheckSpec
from readiness.check.registry import StageChecks
from readiness.check.stages import api, discovery, keys, login

STAGES: Final[tuple[StageChecks, ...]] = (discovery.STAGE, keys.STAGE, login.STAGE, api.STAGE)
#: Every check, in the order they run and are reported. The ids are stable: documented in docs/check.md, never renamed.
CHECKS: Final[tuple[CheckSpec, ...]] = tuple(spec for stage in STAGES for spec in stage.specs)
CHECK_IDS: Final[tuple[str, ...]] = tuple(c.id for c in CHECKS)
