"""readiness/check/tokens.py's verify shows a refused ``alg`` cut at 20 characters: a header's ``alg`` is the
server's text, shown short (written for the `check` mutation group, issue #22)."""

from __future__ import annotations

import base64
import json

import pytest

from readiness.check import tokens as t


def b64(obj: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


@pytest.mark.parametrize(("alg", "shown"), [
    ("A" * 20, "A" * 20), ("A" * 21, "A" * 17 + "..."), ("B" * 200, "B" * 17 + "..."),
])
def test_a_refused_alg_is_shown_up_to_20_characters(alg, shown):
    value = f"{b64({'alg': alg, 'kid': 'k'})}.{b64({})}.c2ln"
    assert t.verify(value, {"keys": []}) == (
        None, f"alg {shown} is not an asymmetric algorithm published in a JWKS")
