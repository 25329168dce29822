"""The state of one ``plaid-ready check`` run, shared by its checks in the order they run: the options, what earlier
checks found (the discovery document, the JWKS, the tokens, the id_token's ``sub``), the HTTP client with the run's
request budget, the results, and every value that must never be printed (redacted from the output)."""

from __future__ import annotations

import base64
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from readiness.check.http import Client, Response, tls_context
from readiness.check.loopback import CallbackListener
from readiness.check.model import CheckResult
from readiness.check.options import Options

REDACTED: Final = "[redacted]"
#: Requests one run makes at most: discovery, JWKS, code exchange, userinfo, refresh, refresh reuse, and the
#: API without a token, with the token and with a tampered token. With the login and the Secrets Manager read
#: this bounds a run (docs/check.md, "Bounds").
MAX_REQUESTS: Final = 9

#: Drives the browser part of the login: receives the authorize URL; must end with the IdP redirecting
#: to the loopback callback. A person with a browser by default; ``--login-command``; tests pass a callable.
Browser = Callable[[str], None]


@dataclass
class Run:
    opts: Options
    browser: Browser | None
    listener: CallbackListener | None
    results: dict[str, CheckResult] = field(default_factory=dict)
    sensitive: set[str] = field(default_factory=set)
    #: The discovery document (DISCOVERY-FETCH), and whether it is OIDC's (its URL ends in the OIDC suffix).
    discovery: dict[str, Any] | None = None
    oidc: bool = True
    #: The JWKS (JWKS-KEYS).
    jwks: dict[str, Any] | None = None
    #: The code exchange's answer, with a non-empty access_token (TOKEN-CLIENT-AUTH).
    tokens: dict[str, Any] | None = None
    access_token: str | None = None
    #: The refresh token of the code exchange (TOKEN-REFRESH-ISSUED).
    refresh_token: str | None = None
    #: The verified id_token's sub (TOKEN-SUB).
    id_sub: str | None = None
    #: This login's CSRF state and OIDC nonce (fresh from a CSPRNG for each run).
    state: str = ""
    nonce: str = ""

    def __post_init__(self) -> None:
        self.http = Client(tls_context(self.opts.cacert), self.opts.timeout, MAX_REQUESTS)
        if self.opts.secret:
            self.sensitive.add(self.opts.secret)

    @property
    def login_requested(self) -> bool:
        return self.opts.client_id is not None and self.opts.secret is not None

    @property
    def requests(self) -> int:
        """Requests sent so far."""
        return self.http.sent

    def get(self, url: str, headers: dict[str, str] | None = None) -> Response:
        return self.http.send("GET", url, headers)

    def token_request(self, form: dict[str, str]) -> Response:
        """POST to the token endpoint with Plaid's client authentication (client_secret_basic); every token in the
        form and in the answer becomes sensitive."""
        assert self.discovery is not None and self.opts.client_id is not None and self.opts.secret is not None
        # RFC 6749 2.3.1: client id and secret are form-encoded, then joined and base64-encoded.
        pair = f"{urllib.parse.quote_plus(self.opts.client_id)}:{urllib.parse.quote_plus(self.opts.secret)}"
        basic = base64.b64encode(pair.encode()).decode()
        self.sensitive.update(v for k, v in form.items() if k in ("code", "refresh_token"))
        resp = self.http.send("POST", self.discovery["token_endpoint"], {"Authorization": f"Basic {basic}"}, form)
        for key, value in (resp.json_object() or {}).items():
            if isinstance(value, str) and key.endswith("token"):
                self.sensitive.add(value)
        return resp

    def redact(self, text: str) -> str:
        for value in sorted(self.sensitive, key=len, reverse=True):
            if value:
                text = text.replace(value, REDACTED)
        return text
