"""The Lambda's one use of PyJWT beyond its public API (lambdas/customers_current/_pyjwt_compat.py), pinned to the
PyJWT version it was checked against; and no other private PyJWT name anywhere in the verifier."""

from __future__ import annotations

import ast
import inspect
import time
from pathlib import Path

import jwt
import pytest
from jwt import PyJWKClient

from lambdas.customers_current import _pyjwt_compat, verifier
from tests.lambdas.idp import rsa_key

REASONS = {
    "_decode_payload": "PyJWT's hook between signature verification and claim validation: the NumericDate claims "
                       "(exp, nbf, iat) must be JSON numbers, and PyJWT's int() would accept strings",
}


def test_pyjwt_is_the_version_the_compat_module_was_checked_against():
    assert jwt.__version__ == _pyjwt_compat.PYJWT_VERSION, (
        f"PyJWT is {jwt.__version__}, _pyjwt_compat.py was checked against {_pyjwt_compat.PYJWT_VERSION}: re-read "
        f"what it overrides in the new version ({'; '.join(f'{k}: {v}' for k, v in REASONS.items())}), then update "
        "PYJWT_VERSION")


def test_the_hook_is_still_called_after_the_signature_and_before_the_claims():
    source = inspect.getsource(jwt.PyJWT.decode_complete)
    hook, claims = source.find("self._decode_payload("), source.find("self._validate_claims(")
    assert 0 < hook < claims, "PyJWT.decode_complete no longer calls _decode_payload before validating the claims"
    assert "_decode_payload" in vars(_pyjwt_compat.StrictJWT)


@pytest.mark.parametrize("claim", _pyjwt_compat.NUMERIC_DATES)
def test_a_numeric_string_date_is_refused_through_the_hook(claim):
    """PyJWT alone accepts "9999999999" for exp (and a past or present date as a string for nbf, iat); the hook
    refuses each: that is what it is for."""
    key = rsa_key("compat")
    now = int(time.time())
    value = {"exp": str(now + 900), "nbf": str(now - 10), "iat": str(now - 10)}[claim]
    token = jwt.encode({"sub": "s", "exp": now + 900, claim: value}, key.private, algorithm="RS256")
    public = key.private.public_key()
    assert jwt.decode(token, public, algorithms=["RS256"])[claim] == value  # plain PyJWT: accepted
    with pytest.raises(_pyjwt_compat.ClaimTypeError, match=f"{claim} must be a number"):
        _pyjwt_compat.StrictJWT().decode(token, public, algorithms=["RS256"])


def _private_pyjwt_names() -> set[str]:
    client = PyJWKClient("https://idp.example/jwks")
    names = set(dir(PyJWKClient)) | set(vars(client)) | set(dir(jwt.PyJWT)) | set(dir(jwt.PyJWK)) \
        | set(dir(jwt.PyJWKSet))
    return {n for n in names if n.startswith("_") and not n.startswith("__")}


@pytest.mark.parametrize("module", [verifier, _pyjwt_compat])
def test_private_pyjwt_names_are_used_only_in_the_compat_module(module):
    """The verifier reaches PyJWT through its public API only (PyJWKClient.fetch_data is the documented override
    point); the compat module uses exactly the names REASONS explains."""
    tree = ast.parse(Path(inspect.getfile(module)).read_text())
    used = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)} \
        | {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    private = used & _private_pyjwt_names()
    assert private == (set(REASONS) if module is _pyjwt_compat else set()), private


@pytest.mark.parametrize("lock", ["lambdas/customers_current/requirements.txt", "requirements.lock"])
def test_the_pins_agree_with_the_compat_module(lock):
    """The Lambda's requirements and the project's lock pin the PyJWT the compat module was checked against, so a
    bump of either pin fails here (naming the module to re-read), not only in the venv that installs it."""
    text = (Path(__file__).resolve().parents[2] / lock).read_text()
    pins = [line.split("==", 1)[1].split()[0] for line in text.splitlines() if line.lower().startswith("pyjwt==")]
    assert pins == [_pyjwt_compat.PYJWT_VERSION], (
        f"{lock} pins PyJWT {pins}, lambdas/customers_current/_pyjwt_compat.py was checked against "
        f"{_pyjwt_compat.PYJWT_VERSION}: re-read {', '.join(REASONS)} in the new version, then update PYJWT_VERSION")
