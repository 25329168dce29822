"""A fake IdP for the Lambda tests: real RSA/EC keys, tokens signed with them, a JWKS served over HTTP (or HTTPS
with a self-signed certificate) on 127.0.0.1 that counts fetches and can rotate keys or fail on demand."""

from __future__ import annotations

import datetime
import io
import ipaddress
import json
import ssl
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

ISSUER = "https://idp.test.example/"
AUDIENCE = "https://api.fpb.example/fdx"
SUBJECT = "auth0|65f0c0ffee1234567890abcd"
#: Plaid's client at the fake IdP: every token carries it in ``client_id`` and env() pins it.
CLIENT_ID = "plaid-client-0123456789abcdef"


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
               "client_id": CLIENT_ID, "scope": "openid offline_access"}
    payload.update(claims or {})
    for k in drop:
        payload.pop(k, None)
    hdr = {k: v for k, v in {"kid": key.kid, **(headers or {})}.items() if v is not None}
    return jwt.encode(payload, key.private, algorithm=alg or key.alg, headers=hdr)


@dataclass
class JwksServer:
    keys: list[Key] = field(default_factory=list)
    fetches: int = 0
    #: ok | down (500) | hang | garbage | drip, drip_headers (a byte per drip_interval) | huge (2 MiB) | redirect
    mode: str = "ok"
    hang_seconds: float = 5.0
    drip_interval: float = 0.2
    drip_bytes: int = 100  # bounded: the server stops dripping after this many bytes
    extra: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    #: With tls=True: a client context that trusts the server's self-signed certificate.
    client_tls: ssl.SSLContext | None = None

    def document(self) -> dict[str, Any]:
        return {"keys": [k.jwk() for k in self.keys] + self.extra}


def _self_signed(tmp: Path) -> tuple[Path, Path, bytes]:
    """A certificate for 127.0.0.1 and its key (files for the server), and the certificate's PEM for clients."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM)
    (tmp / "cert.pem").write_bytes(pem)
    (tmp / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                    serialization.NoEncryption()))
    return tmp / "cert.pem", tmp / "key.pem", pem


@contextmanager
def jwks_server(*keys: Key, tls: bool = False) -> Iterator[JwksServer]:
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
            if state.mode == "redirect" and "moved" not in self.path:  # to a URL that would serve the keys
                self.send_response(302)
                self.send_header("Location", self.path.split("?")[0] + "?moved=1")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if state.mode in ("drip", "drip_headers"):
                self._drip()
                return
            if state.mode == "huge":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()  # no Content-Length: the body runs until the connection closes
                self._write(b'{"keys": [], "pad": "' + b"x" * (2 * 1024 * 1024) + b'"}')
                return
            body = b"<html>oops</html>" if state.mode == "garbage" else json.dumps(state.document()).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self._write(body)

        def _write(self, data: bytes) -> None:
            try:
                self.wfile.write(data)
            except OSError:
                pass

        def _drip(self) -> None:
            """A byte every drip_interval, so each socket read gets data in time and only a total deadline
            stops the client: "drip" sends the headers at once and drips the body, "drip_headers" drips the
            status line and headers themselves. Bounded by drip_bytes."""
            head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
            data = head
            if state.mode == "drip":
                self._write(head)
                data = b'{"keys": [' + b" " * state.drip_bytes
            for i in range(min(len(data), state.drip_bytes)):
                try:
                    self.wfile.write(data[i:i + 1])
                    self.wfile.flush()
                except OSError:
                    return  # the client gave up: what its deadline is for
                time.sleep(state.drip_interval)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), H)
    server.daemon_threads = True
    scheme = "http"
    if tls:
        with tempfile.TemporaryDirectory() as tmp:
            cert, key, pem = _self_signed(Path(tmp))
            server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            server_tls.load_cert_chain(cert, key)
        server.socket = server_tls.wrap_socket(server.socket, server_side=True)
        state.client_tls = ssl.create_default_context(cadata=pem.decode())
        scheme = "https"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"{scheme}://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def env(jwks_url: str, **over: str) -> dict[str, str]:
    """The Lambda's environment for the fake IdP (Auth0 style: audience, client in ``client_id``); an override
    of "" removes the variable."""
    base = {"TOKEN_ISSUER": ISSUER, "JWKS_URI": jwks_url, "TOKEN_AUDIENCE": AUDIENCE, "TOKEN_ALGORITHMS": "RS256,ES256",
            "TOKEN_CLIENT_ID": CLIENT_ID, "TOKEN_CLIENT_CLAIM": "client_id"}
    base.update(over)
    return {k: v for k, v in base.items() if v != ""}


def event(token_value: str | None = None, *, method: str = "GET", path: str = "/fdx/v6/customers/current",
          headers: dict[str, str] | None = None) -> dict[str, Any]:
    h = {"X-Request-ID": "plaid-req-1", **(headers or {})}
    if token_value is not None:
        h["Authorization"] = f"Bearer {token_value}"
    return {"resource": path, "path": path, "httpMethod": method, "headers": h,
            "requestContext": {"requestId": "apigw-req-1"}, "body": None, "isBase64Encoded": False}


@contextmanager
def recording_server(body: bytes) -> Iterator[tuple[str, list[str | None]]]:
    """A loopback HTTP server answering every GET with 200 and ``body``; yields its base URL and the User-Agent
    of each request it saw. Stopped (and its thread joined) on exit."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen: list[str | None] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            seen.append(self.headers.get("User-Agent"))
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def captured_logs(logger: Any) -> Iterator[io.StringIO]:
    """Point a Powertools ``Logger``'s handler at a fresh buffer (one JSON object a line) for the block, then
    back at its previous stream."""
    buffer = io.StringIO()
    log_handler = logger.registered_handler
    previous = log_handler.setStream(buffer)
    try:
        yield buffer
    finally:
        log_handler.setStream(previous)
