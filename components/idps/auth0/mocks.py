"""What the mock engine answers for Auth0 (compute mode): the client id Auth0 generates, the Action's version."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, Final

from components.idps.idp import Mocks


def _client(name: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    return {"clientId": hashlib.sha256(name.encode()).hexdigest()[:32]}


def _action(name: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    return {"versionId": f"{name}-v1"}


MOCKS: Final = Mocks(outputs={"auth0:index/client:Client": _client, "auth0:index/action:Action": _action})
