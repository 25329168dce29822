"""Plaid's ``Customer`` schema (the 200 body of ``GET /customers/current``), bundled for the live check.

Bundled because a user's clone has no copy of Plaid's specs. It is the schema of plaid/core-exchange
``versions/<v>/corex.yaml`` (``Customer`` -> ``Identifier``), identical in versions 4.6 to 6.4; the tests
compare it with those files where they are present. The validator covers exactly the keywords used here.
"""

from __future__ import annotations

from typing import Any, Final

import plaid_contract as plaid

CUSTOMER_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["customerId"],
    "properties": {"customerId": {"type": "string", "maxLength": plaid.CUSTOMER_ID_MAX_LENGTH}},
}

_TYPES: Final = {"object": dict, "string": str}


def problems(value: Any, schema: dict[str, Any] = CUSTOMER_SCHEMA, where: str = "body") -> list[str]:  # noqa: ANN401
    """What makes ``value`` invalid against ``schema`` (type, required, properties, maxLength); [] when valid."""
    expected = schema.get("type")
    if expected is not None and not isinstance(value, _TYPES[expected]):
        return [f"{where} is not a JSON {expected}"]
    out: list[str] = []
    if isinstance(value, dict):
        out += [f"{where} has no {key}" for key in schema.get("required", ()) if key not in value]
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                out += problems(value[key], sub, key)
    if isinstance(value, str) and "maxLength" in schema and len(value) > schema["maxLength"]:
        out.append(f"{where} is longer than {schema['maxLength']} characters")
    return out
