"""`plaid-ready check`'s units: sub shapes, tampering, the bundled schema, the listener, redaction, and the docs
listing every check and the bounds (moved from test_check.py, which runs the check against real providers)."""

from __future__ import annotations

import re
import threading
import urllib.parse
import urllib.request
from pathlib import Path

import jsonschema
import jwt
import pytest
import yaml

import plaid_contract as plaid
from readiness.check import schema as check_schema
from readiness.check import tokens as check_tokens
from readiness.check.options import Options
from readiness.check.run import MAX_REQUESTS, Run
from readiness.check.stages import CHECK_IDS
from tests.harness import ROOT
from tests.lambdas.conftest import spec_versions
from tests.readiness.conftest import (
    ACCOUNT,
    CLIENT_ID,
    CLIENT_SECRET,
)

DOC = "https://127.0.0.1:1/.well-known/openid-configuration"  # never contacted


# --- units: sub shapes, tampering, the bundled schema, the listener, redaction -------------------------


@pytest.mark.parametrize(("sub", "status"), [
    (ACCOUNT, "pass"), ("auth0|64f1c2d3e4b5a6", "pass"), ("00u1abcdEFGH2345x697", "pass"),
    ("3f2b9c4e-1a2b-4c3d-8e9f-0a1b2c3d4e5f", "pass"),
    ("abcde", "fail"), ("abcdef", "fail"), ("jane.doe@example.com", "fail"), ("+15551234567", "fail"),
    ("+1 (555) 123-4567", "fail"), ("555-123-4567", "fail"), ("5551234567", "warn"),
])
def test_sub_shapes(sub, status):
    assert check_tokens.sub_shape(sub)[0].value == status


def test_tampered_jwt_changes_the_payload_and_keeps_header_and_signature():
    token = jwt.encode({"sub": ACCOUNT, "exp": 2_000_000_000}, "k" * 32, algorithm="HS256")
    bad = check_tokens.tampered(token)
    assert bad != token
    assert bad.split(".")[0] == token.split(".")[0] and bad.split(".")[2] == token.split(".")[2]
    assert jwt.decode(bad, options={"verify_signature": False})["sub"] == f"{ACCOUNT}-tampered"
    opaque = "A" * 20 + "b" * 20
    assert check_tokens.tampered(opaque) != opaque and len(check_tokens.tampered(opaque)) == len(opaque)


BODIES = [{"customerId": ACCOUNT}, {"customerId": ACCOUNT, "extra": 1}, {"customerId": 42}, {}, [],
          {"customerId": "x" * plaid.CUSTOMER_ID_MAX_LENGTH}, {"customerId": "x" * (plaid.CUSTOMER_ID_MAX_LENGTH + 1)},
          {"customerId": None}, "customerId"]


def _customer_schema(path: Path) -> dict:
    """Plaid's Customer schema from corex.yaml, Identifier inlined (as tests.lambdas.conftest does, with the C
    YAML loader where available: the files are large)."""
    doc = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
    schemas = doc["components"]["schemas"]
    ref = doc["paths"]["/customers/current"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    customer = schemas[ref["$ref"].rsplit("/", 1)[-1]]
    props = {k: schemas[v["$ref"].rsplit("/", 1)[-1]] if "$ref" in v else v for k, v in customer["properties"].items()}
    return {**customer, "properties": props}


def test_bundled_customer_schema_is_plaids_in_every_spec_version():
    versions = spec_versions()
    if not versions:
        pytest.skip("../shared/plaid-spec is absent (a user's clone has none); CI checks this")
    for path in versions:
        spec = _customer_schema(path)
        assert spec["type"] == check_schema.CUSTOMER_SCHEMA["type"]
        assert spec["required"] == check_schema.CUSTOMER_SCHEMA["required"]
        assert set(spec["properties"]) == set(check_schema.CUSTOMER_SCHEMA["properties"])
        prop = spec["properties"]["customerId"]
        assert {k: prop[k] for k in ("type", "maxLength")} == check_schema.CUSTOMER_SCHEMA["properties"]["customerId"]
        for body in BODIES:  # the bundled validator agrees with jsonschema on Plaid's own schema
            valid = jsonschema.Draft202012Validator(spec).is_valid(body)
            assert (check_schema.problems(body) == []) == valid, (path, body)


def test_callback_listener_keeps_the_first_answer_with_its_state_and_serves_nothing_else():
    from readiness.check.loopback import CallbackListener

    listener = CallbackListener(0)
    try:
        listener.start("s1")
        base = listener.redirect_uri.removesuffix("/callback")
        with pytest.raises(urllib.error.HTTPError) as other:
            urllib.request.urlopen(f"{base}/favicon.ico", timeout=5)
        assert other.value.code == 404
        for forged in ("?code=c0&state=s2", "?code=c0", "?error=access_denied&state=", "?state=s1x&code=c0"):
            with pytest.raises(urllib.error.HTTPError) as wrong:
                urllib.request.urlopen(f"{listener.redirect_uri}{forged}", timeout=5)
            assert wrong.value.code == 400 and b"ignored" in wrong.value.read()
        assert listener.wait(0.1) is None and listener.ignored == 4
        assert urllib.request.urlopen(f"{listener.redirect_uri}?code=c1&state=s1", timeout=5).status == 200
        with pytest.raises(urllib.error.HTTPError) as again:
            urllib.request.urlopen(f"{listener.redirect_uri}?code=c2&state=s1", timeout=5)
        assert again.value.code == 409
        result = listener.wait(1)
        assert result is not None and (result.code, result.error) == ("c1", None)
    finally:
        listener.close()
    assert not any(t.name == "plaid-ready-check-callback" and t.is_alive() for t in threading.enumerate())


def test_redaction_replaces_every_known_credential():
    opts = Options(discovery_url=DOC, client_id=CLIENT_ID, secret=CLIENT_SECRET, customers_url=None,
                   cacert=None, redirect_port=1, redirect_host="127.0.0.1", login_timeout=1, timeout=1,
                   json=True, secret_source=None, secret_arn_hint=None)
    runner = Run(opts, None, None)
    runner.sensitive.add("tok-123456789")
    assert runner.redact(f"a {CLIENT_SECRET} b tok-123456789") == "a [redacted] b [redacted]"
    assert CLIENT_SECRET not in repr(opts)


def test_docs_list_every_check_id():
    text = (ROOT / "docs" / "check.md").read_text()
    for check_id in CHECK_IDS:
        assert f"`{check_id}`" in text, check_id


def test_docs_state_plaids_authorize_request_and_the_bounds_as_the_code_does():
    text = (ROOT / "docs" / "check.md").read_text()
    sentence = re.search(r"Plaid documents its authorize request as exactly (.+?), with no", text, re.S).group(1)
    assert re.findall(r"`([a-z_]+)[=`]", sentence) == list(plaid.AUTHORIZE_PARAMETERS)
    assert f"**A run makes at most {MAX_REQUESTS} requests**" in text
    assert f"{MAX_REQUESTS + 1} × `--timeout`" in text  # the requests and the Secrets Manager read
