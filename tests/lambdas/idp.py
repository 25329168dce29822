"""A fake IdP for the Lambda tests: real RSA/EC keys, tokens signed with them, a JWKS served over HTTP on
127.0.0.1 that counts fetches and can rotate keys or fail on demand."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

ISSUER = "https://idp.test.example/"
AUDIENCE = "https://api.fpb.example/fdx"
SUBJECT = "auth0|65f0c0ffee1234567890abcd"


@dataclass
class Key:
    kid: str
    private: Any
    alg: str
    use: str | None = "sig"
    include_alg: bool = True

    def jwk(self) -> dict[str, Any]:
        algo = jwt.algorithms.RSAAlgorithm if self.alg.startswith(("RS", "PS")) else jwt.algorithms.ECAlgorithm
        d = json.loads(algo.to_jwk(self.private.public_key()))
        d["kid"] = self.kid
        if self.use:
            d["use"] = self.use
        if self.include_alg:
            d["alg"] = self.alg
        return d


def rsa_key(kid: str | None = None, bits: int = 2048, **kw: Any) -> Key:
    return Key(kid or f"rsa-{uuid.uuid4().hex[:8]}", rsa.generate_private_key(65537, bits), "RS256", **kw)


def ec_key(kid: str | None = None, **kw: Any) -> Key:
    return Key(kid or f"ec-{uuid.uuid4().hex[:8]}", ec.generate_private_key(ec.SECP256R1()), "ES256", **kw)


def token(key: Key, *, claims: dict[str, Any] | None = None, headers: dict[str, Any] | None = None,
          drop: tuple[str, ...] = (), alg: str | None = None) -> str:
    now = int(time.time())
    payload = {"iss": ISSUER, "aud": AUDIENCE, "sub": SUBJECT, "iat": now, "exp": now + 900,
               "scope": "openid offline_access"}
    payload.update(claims or {})
    for k in drop:
        payload.pop(k, None)
    hdr = {k: v for k, v in {"kid": key.kid, **(headers or {})}.items() if v is not None}
    return jwt.encode(payload, key.private, algorithm=alg or key.alg, headers=hdr)


@dataclass
class JwksServer:
    keys: list[Key] = field(default_factory=list)
    fetches: int = 0
    mode: str = "ok"  # ok | down (500) | hang | garbage
    hang_seconds: float = 5.0
    extra: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    def document(self) -> dict[str, Any]:
        return {"keys": [k.jwk() for k in self.keys] + self.extra}


@contextmanager
def jwks_server(*keys: Key) -> Iterator[JwksServer]:
    state = JwksServer(list(keys))

    class H(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            state.fetches += 1
            if state.mode == "hang":
                time.sleep(state.hang_seconds)
            if state.mode == "down":
                self.send_response(500)
                self.end_headers()
                return
            body = b"<html>oops</html>" if state.mode == "garbage" else json.dumps(state.document()).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except OSError:
                pass

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), H)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def env(jwks_url: str, **over: str) -> dict[str, str]:
    base = {"TOKEN_ISSUER": ISSUER, "JWKS_URI": jwks_url, "TOKEN_AUDIENCE": AUDIENCE, "TOKEN_ALGORITHMS": "RS256,ES256"}
    base.update(over)
    return {k: v for k, v in base.items() if v != ""}


def event(token_value: str | None = None, *, method: str = "GET", path: str = "/fdx/v6/customers/current",
          headers: dict[str, str] | None = None) -> dict[str, Any]:
    h = {"X-Request-ID": "plaid-req-1", **(headers or {})}
    if token_value is not None:
        h["Authorization"] = f"Bearer {token_value}"
    return {"resource": path, "path": path, "httpMethod": method, "headers": h,
            "requestContext": {"requestId": "apigw-req-1"}, "body": None, "isBase64Encoded": False}
