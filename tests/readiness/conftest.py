"""Fixtures for `plaid-ready check`'s tests: a test CA, the real OIDC provider over TLS, a scripted browser.

The provider is tests/lambdas/oidc_provider/server.mjs (npm oidc-provider) with its env knobs; each
configuration runs in its own process, all started at once and stopped at the end of the module.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import subprocess
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

import plaid_contract as plaid
from tests.lambdas import oidc

AUDIENCE = "https://api.firstplatypus.example/fdx"
CLIENT_ID = "plaid-check-client"
CLIENT_SECRET = "5ec12e7" + "0123456789abcdef" * 3 + "fedcba987"  # distinctive, so a leak is findable
ACCOUNT = "fpb-customer-0042"  # the login the scripted browser submits; >= 7 characters


@dataclass(frozen=True)
class Tls:
    ca: Path
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert, self.key)
        return ctx


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    """A private CA and a server certificate for 127.0.0.1 signed by it (not trusted by the system)."""
    out = tmp_path_factory.mktemp("tls")
    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (x509.CertificateBuilder().subject_name(_name("plaid-ready test CA")).issuer_name(_name("plaid-ready test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(ca_ski, critical=False)
          .sign(ca_key, hashes.SHA256()))
    cert = (x509.CertificateBuilder().subject_name(_name("127.0.0.1")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = Tls(out / "ca.pem", out / "server.pem", out / "server.key")
    paths.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()))
    return paths


@dataclass
class Op:
    issuer: str
    process: subprocess.Popen = field(repr=False)

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"


def start_providers(configs: Mapping[str, Mapping[str, str]], tls: Tls, callback: str) -> dict[str, Op]:
    """One provider process per configuration, all over TLS, all allowing the check's loopback callback.
    Every configuration honours offline_access without prompt=consent and answers userinfo with the API's
    access token, as Auth0 and Okta do; each then adds its own knobs. Stop them with :func:`stop_providers`."""
    base = {"CLIENT_ID": CLIENT_ID, "CLIENT_SECRET": CLIENT_SECRET, "REDIRECT_URI": plaid.PLAID_REDIRECT_URI,
            "EXTRA_REDIRECT_URIS": callback, "AUDIENCE": AUDIENCE,
            "ACCESS_TOKEN_TTL": str(plaid.ACCESS_TOKEN_LIFETIME_SECONDS), "TLS_CERT": str(tls.cert),
            "TLS_KEY": str(tls.key), "OFFLINE_ACCESS_WITHOUT_PROMPT": "1", "USERINFO_ACCEPTS_ACCESS_TOKEN": "1"}
    started: dict[str, subprocess.Popen] = {}
    try:
        for name, knobs in configs.items():  # all started first, then awaited: they boot in parallel
            started[name] = oidc.spawn({**base, **knobs})
        return {name: Op(oidc.wait_ready(proc, "https"), proc) for name, proc in started.items()}
    except BaseException:
        stop_providers(list(started.values()))
        raise


def stop_providers(processes: list[subprocess.Popen]) -> None:
    oidc.stop(processes)


# --- the scripted browser -------------------------------------------------------------------------


@dataclass
class Browser:
    """Completes the provider's own login and consent pages over HTTP (devInteractions), as a person would
    in a browser, and follows the final redirect to the check's loopback callback. Keeps what it saw there
    (the authorization code) so tests can grep the output for it."""

    ca: Path
    account: str = ACCOUNT
    seen: list[str] = field(default_factory=list)

    def __call__(self, authorize_url: str) -> None:
        redirect_uri = urllib.parse.parse_qs(urllib.parse.urlsplit(authorize_url).query)["redirect_uri"][0]
        opener = oidc.browser(ssl.create_default_context(cafile=str(self.ca)))
        final = oidc.login(authorize_url, account=self.account, redirect_uri=redirect_uri, opener=opener)
        self.seen.extend(v for k, v in urllib.parse.parse_qsl(urllib.parse.urlsplit(final).query) if k == "code")
        oidc.open_url(opener, final)  # the real redirect to the check's listener


# --- small TLS servers ----------------------------------------------------------------------------


class TlsServer:
    """A ThreadingHTTPServer wrapped in TLS on 127.0.0.1, served from a thread; use as a context manager."""

    def __init__(self, server: ThreadingHTTPServer, tls: Tls) -> None:
        server.socket = tls.server_context().wrap_socket(server.socket, server_side=True)
        self.server = server
        self.thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> TlsServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)
        self.server.server_close()


def handler_class(respond: Callable[[BaseHTTPRequestHandler], tuple[int, bytes]]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = respond(self)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    return Handler


@pytest.fixture
def tls_server(tls: Tls) -> Iterator[Callable[[Callable[[BaseHTTPRequestHandler], tuple[int, bytes]]], TlsServer]]:
    servers: list[TlsServer] = []

    def make(respond: Callable[[BaseHTTPRequestHandler], tuple[int, bytes]]) -> TlsServer:
        server = TlsServer(ThreadingHTTPServer(("127.0.0.1", 0), handler_class(respond)), tls).__enter__()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.__exit__()
