"""Signing-key rotation end to end (docs/rotation.md): a real OIDC provider on 127.0.0.1 (npm oidc-provider,
tests/lambdas/oidc_provider/server.mjs with its key-administration API) publishes a next key, switches signing
to it, then stops publishing the old one, while it keeps running. Two verifiers watch every token:

- the customers Lambda (the real handler, configured from the provider's issuer and JWKS like the other
  end-to-end tests; its 1-hour JWKS maximum age shortened as the Lambda tests shorten it);
- ``Plaid``, a model of what Plaid documents: it caches the JWKS for 24 hours ("Plaid caches JWKS for 24 hours")
  and validates each ID token by its ``kid``. Whether Plaid refetches the JWKS early on an unknown ``kid`` is not
  documented; the model does not (the conservative reading). Its clock is a fake one the test advances by
  hours: the 24-hour waits are never slept.

Following the runbook (next key published >= 24 h before it signs; old key kept >= 24 h after it stopped), no
request gets a 401 and Plaid validates every ID token. Switching to a key published less than 24 h earlier,
Plaid's validation fails (the test shows the error) until its cache expires, and the Lambda refuses the new key
for as long as its unknown-``kid`` cooldown lasts after its last fetch.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest
from jwt import PyJWKSet

import plaid_contract as plaid
from lambdas.customers_current import handler as lambda_handler
from lambdas.customers_current import verifier
from tests.lambdas import oidc
from tests.lambdas.conftest import SHORT_MAX_AGE
from tests.lambdas.idp import event

AUDIENCE = "https://api.firstplatypus.example/fdx"
CLIENT_ID, CLIENT_SECRET = "plaid-rotation-client", "fedcba9876543210" * 4
ACCOUNT = "fpb-customer-0042"
HOUR = 3600.0
PLAID_CACHE_SECONDS = plaid.PLAID_JWKS_CACHE_HOURS * HOUR
#: A real wait past the Lambda's shortened maximum age (the 1 hour of production).
PAST_MAX_AGE = SHORT_MAX_AGE + 0.1


class FakeClock:
    """Seconds since the test's start, moved only by :meth:`advance`: Plaid's 24 hours pass without a sleep."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def advance_to(self, hours: float) -> None:
        assert hours * HOUR >= self.now, "the clock only moves forward"
        self.now = hours * HOUR


class UnknownSigningKey(Exception):
    """Plaid's cached JWKS has no key with the ID token's ``kid``: Plaid cannot validate the token."""


@dataclass
class PlaidModel:
    """Plaid as documented: the JWKS cached for 24 hours by its own clock (never refetched earlier, not even for
    an unknown ``kid``), each ID token validated against it (signature by ``kid``, ``iss``, ``aud``, ``exp``)."""

    jwks_uri: str
    issuer: str
    clock: Callable[[], float]
    cache_seconds: float = PLAID_CACHE_SECONDS
    fetches: list[float] = field(default_factory=list)  # the fake-clock time of each JWKS fetch
    _cached: PyJWKSet | None = None

    def jwks(self) -> PyJWKSet:
        if self._cached is None or self.clock() - self.fetches[-1] >= self.cache_seconds:
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            with opener.open(self.jwks_uri, timeout=10) as resp:
                self._cached = PyJWKSet.from_dict(json.loads(resp.read()))
            self.fetches.append(self.clock())
        return self._cached

    def cached_kids(self) -> list[str]:
        return [k.key_id for k in self.jwks().keys]

    def validate_id_token(self, id_token: str) -> dict[str, Any]:
        kid = jwt.get_unverified_header(id_token)["kid"]
        keys = self.jwks()
        try:
            key = keys[kid]
        except KeyError:
            raise UnknownSigningKey(f"ID token signed with kid {kid}; Plaid's JWKS (fetched at hour "
                                    f"{self.fetches[-1] / HOUR:g}) holds {self.cached_kids()}") from None
        return jwt.decode(id_token, key, algorithms=["RS256"], audience=CLIENT_ID, issuer=self.issuer)


@dataclass
class World:
    issuer: str
    discovery: dict[str, Any]
    admin: oidc.KeyAdmin
    clock: FakeClock
    plaid: PlaidModel
    #: Every /customers/current answer of the test, in order: (step, kid of the token, HTTP status, debugMessage).
    served: list[tuple[str, str, int, str | None]] = field(default_factory=list)

    def tokens(self, refresh_token: str | None = None) -> dict[str, Any]:
        """A token response, as Plaid receives it: a code grant (login through the provider's pages) or a
        refresh. Plaid validates the ID token at once; a failure raises UnknownSigningKey."""
        if refresh_token is None:
            query = urllib.parse.urlencode({"response_type": "code", "client_id": CLIENT_ID,
                                            "redirect_uri": plaid.PLAID_REDIRECT_URI,
                                            "scope": " ".join(plaid.REQUIRED_SCOPES), "state": "rotation-state",
                                            "prompt": "consent"})
            final = oidc.login(f"{self.discovery['authorization_endpoint']}?{query}", account=ACCOUNT,
                               redirect_uri=plaid.PLAID_REDIRECT_URI)
            form = {"grant_type": "authorization_code", "code": oidc.code_from(final, "rotation-state"),
                    "redirect_uri": plaid.PLAID_REDIRECT_URI}
        else:
            form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        return oidc.token_request(self.discovery["token_endpoint"], CLIENT_ID, CLIENT_SECRET, form)

    def plaid_accepts(self, tokens: dict[str, Any]) -> None:
        assert self.plaid.validate_id_token(tokens["id_token"])["sub"] == ACCOUNT

    def customers_current(self, step: str, access_token: str) -> int:
        resp = lambda_handler.handler(event(access_token), None)
        body = json.loads(resp["body"])
        self.served.append((step, kid_of(access_token), resp["statusCode"], body.get("debugMessage")))
        return resp["statusCode"]

    def published_kids(self) -> list[str]:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(self.discovery["jwks_uri"], timeout=10) as resp:
            return [k["kid"] for k in json.loads(resp.read())["keys"]]

    def jwks_fetches(self) -> int:
        assert lambda_handler._state.jwks is not None
        return lambda_handler._state.jwks.fetches


def kid_of(token: str) -> str:
    segment = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))["kid"]


@pytest.fixture
def world() -> Iterator[World]:
    with oidc.provider_with_key_admin(CLIENT_ID=CLIENT_ID, CLIENT_SECRET=CLIENT_SECRET,
                                      REDIRECT_URI=plaid.PLAID_REDIRECT_URI, AUDIENCE=AUDIENCE,
                                      ACCESS_TOKEN_TTL=str(plaid.ACCESS_TOKEN_LIFETIME_SECONDS)) as (issuer, admin):
        discovery = oidc.discovery(issuer)
        clock = FakeClock()
        w = World(issuer, discovery, admin, clock, PlaidModel(discovery["jwks_uri"], discovery["issuer"], clock))
        # The Lambda as the tenant contract configures it (Auth0's RFC 9068 profile: the client in client_id).
        lambda_handler.configure({"TOKEN_ISSUER": discovery["issuer"], "JWKS_URI": discovery["jwks_uri"],
                                  "TOKEN_AUDIENCE": AUDIENCE, "TOKEN_CLIENT_ID": CLIENT_ID,
                                  "TOKEN_CLIENT_CLAIM": "client_id"})
        yield w


@pytest.fixture
def max_age_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Lambda's JWKS maximum age shortened; its unknown-kid cooldown left at the production 30 s."""
    monkeypatch.setattr(verifier, "JWKS_MAX_AGE_SECONDS", SHORT_MAX_AGE)


def test_rotation_following_the_runbook_no_401_and_plaid_validates_every_id_token(max_age_only, world: World):
    """Publish at hour 1, sign at hour 25, unpublish the old key at hour 50. The Lambda keeps its production
    cooldown (30 s), so no request here is rescued by an unknown-kid refetch: the next key is in its cache
    (maximum-age refetch) long before it signs."""
    w = world
    old = w.admin.state()["signing"]
    assert w.admin.state() == {"signing": old, "published": [old]}

    # Hour 0: Plaid links the account; its JWKS cache holds the old key for 24 hours.
    first = w.tokens()
    w.plaid_accepts(first)
    assert kid_of(first["access_token"]) == old
    assert w.customers_current("before", first["access_token"]) == 200
    assert w.jwks_fetches() == 1

    # Hour 1: publish the next key. Tokens are still signed with the old one.
    w.clock.advance_to(1)
    nxt = w.admin.publish("next-2026")["kid"]
    assert w.admin.state() == {"signing": old, "published": [old, nxt]}
    assert w.published_kids() == [old, nxt]  # what any verifier fetching now sees
    published_at = w.clock()
    tokens = w.tokens(first["refresh_token"])  # a refresh token issued before the key change still works
    assert kid_of(tokens["access_token"]) == kid_of(tokens["id_token"]) == old
    w.plaid_accepts(tokens)
    # The Lambda serves from its cache; once past its maximum age it refetches and learns the next key.
    assert w.customers_current("published", tokens["access_token"]) == 200
    time.sleep(PAST_MAX_AGE)
    assert w.customers_current("published", tokens["access_token"]) == 200
    assert [k.key_id for k in lambda_handler._state.jwks.get_jwk_set().keys] == [old, nxt]

    # Hour 25: Plaid's cache (hour 0) has expired; its next fetch holds both keys.
    w.clock.advance_to(25)
    tokens = w.tokens(tokens["refresh_token"])
    w.plaid_accepts(tokens)
    assert w.plaid.cached_kids() == [old, nxt] and w.plaid.fetches == [0, 25 * HOUR]
    assert w.clock() - published_at >= PLAID_CACHE_SECONDS  # the runbook's first wait is over

    # Switch signing to the next key.
    assert w.admin.sign_with(nxt) == {"signing": nxt, "published": [nxt, old]}
    stopped_signing_at = w.clock()
    old_access = tokens["access_token"]  # still within its 15 minutes
    tokens = w.tokens(tokens["refresh_token"])
    assert kid_of(tokens["access_token"]) == kid_of(tokens["id_token"]) == nxt
    w.plaid_accepts(tokens)  # from its cache: no refetch
    assert w.plaid.fetches == [0, 25 * HOUR]
    assert w.customers_current("switched", tokens["access_token"]) == 200
    assert w.customers_current("switched", old_access) == 200  # the old key is still published

    # Hour 50: the old key stopped signing 25 hours ago (and its tokens expired long ago): unpublish it.
    w.clock.advance_to(50)
    assert w.clock() - stopped_signing_at >= PLAID_CACHE_SECONDS
    assert w.admin.unpublish(old) == {"signing": nxt, "published": [nxt]}
    tokens = w.tokens(tokens["refresh_token"])
    w.plaid_accepts(tokens)  # Plaid's cache of hour 25 expired at hour 49: refetched, the new key only
    assert w.plaid.cached_kids() == [nxt]
    assert w.customers_current("unpublished", tokens["access_token"]) == 200
    time.sleep(PAST_MAX_AGE)
    assert w.customers_current("unpublished", tokens["access_token"]) == 200  # refetched: the new key only
    assert [k.key_id for k in lambda_handler._state.jwks.get_jwk_set().keys] == [nxt]
    fresh = w.tokens()  # a new link after the rotation
    w.plaid_accepts(fresh)
    assert w.customers_current("unpublished", fresh["access_token"]) == 200

    # Every request in between was served.
    assert [s for s in w.served if s[2] != 200] == []
    assert {kid for _, kid, _, _ in w.served} == {old, nxt}
    # Once refetched, the Lambda no longer trusts the unpublished key: a token it signed (here still within its
    # real 15 minutes; in production it expired a day earlier) is refused. This is why the old key stays
    # published until the tokens it signed have expired.
    assert w.customers_current("after", old_access) == 401
    assert w.served[-1][3] == "unknown signing key"


def test_switching_to_a_key_published_less_than_24h_earlier_fails_at_plaid(world: World):
    """The runbook not followed: the next key signs 1 hour after it was published. Plaid's cached JWKS does not
    have it, so Plaid cannot validate the ID tokens until its cache expires. The Lambda (production maximum age
    and cooldown), which fetched its JWKS moments earlier, refuses the new key while its 30-second unknown-kid
    cooldown lasts (test_unplanned_rotation_... shows the refetch that follows it)."""
    w = world
    old = w.admin.state()["signing"]
    first = w.tokens()
    w.plaid_accepts(first)  # hour 0: Plaid caches [old]
    assert w.customers_current("before", first["access_token"]) == 200  # the Lambda caches [old]

    w.clock.advance_to(1)
    nxt = w.admin.publish()["kid"]
    w.admin.sign_with(nxt)  # too early: published 1 hour ago, not 24
    tokens = w.tokens(first["refresh_token"])
    assert kid_of(tokens["id_token"]) == nxt

    with pytest.raises(UnknownSigningKey) as failure:
        w.plaid_accepts(tokens)
    assert str(failure.value) == f"ID token signed with kid {nxt}; Plaid's JWKS (fetched at hour 0) holds ['{old}']"
    # The failure lasts as long as Plaid's cache: still at hour 23 ...
    w.clock.advance_to(23)
    tokens = w.tokens(tokens["refresh_token"])
    with pytest.raises(UnknownSigningKey):
        w.plaid_accepts(tokens)
    # ... and ends when the cache expires (hour 24), 23 hours of failed links and refreshes later.
    w.clock.advance_to(24)
    w.plaid_accepts(tokens)
    assert w.plaid.fetches == [0, 24 * HOUR]

    # The Lambda fetched its JWKS (old key only) less than 30 s ago: an unknown kid does not refetch within the
    # cooldown, so Plaid's call is refused, though the key is published.
    assert w.jwks_fetches() == 1
    assert w.customers_current("hurried", tokens["access_token"]) == 401
    assert w.served[-1][3] == "unknown signing key" and w.jwks_fetches() == 1
    assert w.published_kids() == [nxt, old]


def test_unplanned_rotation_the_lambda_refetches_on_an_unknown_kid(fast_cooldown, world: World):
    """A rotation the bank does not schedule (Okta's emergency rotation, Cognito): the new key signs as soon as
    it is published. With the maximum age at its production hour, the Lambda learns the key from the token's
    unknown kid: one refetch once its cooldown (shortened to 0.2 s here) has passed, and no 401."""
    w = world
    first = w.tokens()
    assert w.customers_current("before", first["access_token"]) == 200
    assert w.jwks_fetches() == 1
    time.sleep(verifier.COOLDOWN_SECONDS + 0.05)  # past the cooldown that the first fetch started

    nxt = w.admin.publish()["kid"]
    w.admin.sign_with(nxt)
    tokens = w.tokens(first["refresh_token"])
    assert kid_of(tokens["access_token"]) == nxt
    assert w.customers_current("unplanned", tokens["access_token"]) == 200
    assert w.jwks_fetches() == 2  # one refetch, for the unknown kid
    assert w.customers_current("unplanned", first["access_token"]) == 200  # the old key is still published
    assert w.jwks_fetches() == 2
    assert [s for s in w.served if s[2] != 200] == []


def test_key_admin_refuses_what_a_provider_cannot_do(world: World):
    """The key-administration API keeps a signing key: it refuses to unpublish the signing key or an unknown kid,
    and a kid twice; every refusal leaves the key set as it was."""
    w = world
    old = w.admin.state()["signing"]
    with pytest.raises(oidc.KeyAdminError) as refused:
        w.admin.unpublish(old)
    assert refused.value.status == 409 and "signs tokens" in str(refused.value)
    with pytest.raises(oidc.KeyAdminError) as refused:
        w.admin.sign_with("no-such-kid")
    assert refused.value.status == 404
    nxt = w.admin.publish()["kid"]
    with pytest.raises(oidc.KeyAdminError) as refused:
        w.admin.publish(nxt)
    assert refused.value.status == 409
    with pytest.raises(oidc.KeyAdminError) as refused:
        w.admin.publish("not a kid!")
    assert refused.value.status == 400
    assert w.admin.state() == {"signing": old, "published": [old, nxt]}
