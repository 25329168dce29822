"""What the mock engine answers for Okta: the org's Everyone group (an invoke)."""

from __future__ import annotations

from typing import Any, Final

from components.checklist import UNKNOWN_TEXT
from components.idps.idp import Mocks

#: The Everyone group's id that compute mode answers for okta.group.get_everyone_group.
EVERYONE_GROUP_ID: Final = "00gmockeveryone00001"


def _everyone(compute: bool) -> dict[str, Any]:
    # Every Okta org has one; its id is the org's own: known only by asking the org.
    group_id = EVERYONE_GROUP_ID if compute else UNKNOWN_TEXT
    return {"id": group_id, "name": "Everyone", "description": "All users in your organization"}


MOCKS: Final = Mocks(calls={"okta:group/getEveryoneGroup:getEveryoneGroup": _everyone})
