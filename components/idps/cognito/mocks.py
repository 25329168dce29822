"""What the mock engine answers for Cognito (compute mode): the app client's generated secret."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from components.idps.idp import Mocks, deterministic_bytes


def _client(name: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    if not inputs.get("generateSecret"):
        return {}
    return {"clientSecret": deterministic_bytes(f"{name}:cognito-secret", 26).hex()}  # Cognito generates 52 chars


MOCKS: Final = Mocks(outputs={"aws:cognito/userPoolClient:UserPoolClient": _client})
