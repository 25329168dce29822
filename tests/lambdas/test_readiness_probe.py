"""The readiness probe Lambda for real (docs/probe.md): the real OIDC provider on 127.0.0.1 over TLS (npm
oidc-provider, with its key-administration API), a loopback customers API answering 403, 200 or 401, TLS servers
on 127.0.0.1 with certificates made here with chosen expiry dates, the state in SSM through moto. Every EMF line
and log line the handler prints is read back."""

from __future__ import annotations

import datetime
import io
import ipaddress
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

boto3 = pytest.importorskip("boto3")
moto = pytest.importorskip("moto")

from lambdas.readiness_probe import checks, config, handler, names  # noqa: E402
from tests.lambdas import oidc  # noqa: E402
from tests.lambdas.idp import captured_logs  # noqa: E402

PARAMETER = "/plaid-ready/fpb-prod/readiness-probe/kids"
DAY = datetime.timedelta(days=1)


# --- certificates made here -------------------------------------------------------------------------


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


@dataclass(frozen=True)
class Ca:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate
    dir: Path

    def client_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cadata=self.cert.public_bytes(serialization.Encoding.PEM).decode())
        return ctx

    def issue(self, name: str, valid_for: datetime.timedelta) -> tuple[Path, Path]:
        """A certificate for 127.0.0.1 signed by this CA, expiring ``valid_for`` from now; (cert, key) PEM files."""
        now = datetime.datetime.now(datetime.UTC)
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder().subject_name(_name("127.0.0.1")).issuer_name(self.cert.subject)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - 2 * DAY).not_valid_after(now + valid_for)
                .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                               critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .sign(self.key, hashes.SHA256()))
        cert_path, key_path = self.dir / f"{name}.pem", self.dir / f"{name}.key"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        return cert_path, key_path


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> Ca:
    now = datetime.datetime.now(datetime.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name("probe test CA")).issuer_name(_name("probe test CA"))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - 3 * DAY).not_valid_after(now + 400 * DAY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(key, hashes.SHA256()))
    return Ca(key, cert, tmp_path_factory.mktemp("probe-tls"))


@contextmanager
def tls_server(ca: Ca, valid_for: datetime.timedelta, *, require_client_cert: bool = False) -> Iterator[str]:
    """A TLS server on 127.0.0.1 presenting a certificate that expires ``valid_for`` from now; yields host:port.
    ``require_client_cert``: mutual TLS, as the API's custom domain in prod (the probe has no client certificate)."""
    cert, key = ca.issue(f"server-{valid_for.days}", valid_for)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    if require_client_cert:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(cadata=ca.cert.public_bytes(serialization.Encoding.PEM).decode())
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(5)
            try:
                with ctx.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)  # a request line, if the client gets that far
            except (OSError, ssl.SSLError):
                conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


@contextmanager
def api_server(status: int) -> Iterator[str]:
    """The customers API as a request from outside Plaid's ranges sees it: answers every GET with ``status``."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = json.dumps({"message": "Forbidden"} if status == 403 else {"code": status}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:  # noqa: ANN401
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/fdx/v6/customers/current"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def idp(ca: Ca) -> Iterator[tuple[str, oidc.KeyAdmin]]:
    """The OIDC provider over TLS (a certificate from the test CA) with its key-administration API."""
    cert, key = ca.issue("idp", 400 * DAY)
    port, admin_port = oidc.free_port(), oidc.free_port()
    while admin_port == port:
        admin_port = oidc.free_port()
    proc = oidc.spawn({"PORT": str(port), "KEY_ADMIN_PORT": str(admin_port), "TLS_CERT": str(cert),
                       "TLS_KEY": str(key), "CLIENT_ID": "plaid-probe", "CLIENT_SECRET": "0123456789abcdef" * 4,
                       "REDIRECT_URI": "https://cdn.plaid.com/link/v2/stable/oauth.html",
                       "AUDIENCE": "https://api.firstplatypus.example/fdx"})
    try:
        yield oidc.wait_ready(proc, "https"), oidc.KeyAdmin(f"http://127.0.0.1:{admin_port}")
    finally:
        oidc.stop([proc])


@pytest.fixture
def ssm(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with moto.mock_aws():
        yield boto3.client("ssm", region_name="us-east-1")


class Output:
    """What the handler printed: Powertools Logger lines and EMF blobs."""

    def __init__(self, capsys: pytest.CaptureFixture[str], buffer: io.StringIO) -> None:
        self._capsys, self._buffer = capsys, buffer

    def lines(self) -> list[dict[str, Any]]:
        text = self._buffer.getvalue() + self._capsys.readouterr().out
        self._buffer.seek(0)
        self._buffer.truncate()
        return [json.loads(x) for x in text.splitlines() if x.startswith("{")]


@pytest.fixture
def out(capsys: pytest.CaptureFixture[str]) -> Iterator[Output]:
    with captured_logs(handler.logger) as buffer:
        yield Output(capsys, buffer)


def emf(lines: list[dict[str, Any]]) -> dict[str, float]:
    """Metric name -> value of the run's EMF blobs (namespace and dimension asserted)."""
    values: dict[str, float] = {}
    for line in lines:
        if "_aws" not in line:
            continue
        for directive in line["_aws"]["CloudWatchMetrics"]:
            assert directive["Namespace"] == "PlaidReadyIdp" and directive["Dimensions"] == [["service"]]
            assert line["service"] == "readiness-probe"
            for metric in directive["Metrics"]:
                assert metric["Unit"] == "Count"
                value = line[metric["Name"]]
                if isinstance(value, list):  # Powertools writes each metric's values as a list: one per run here
                    assert len(value) == 1
                    value = value[0]
                assert metric["Name"] not in values, "one value per metric per run"
                values[metric["Name"]] = value
    return values


def logs(lines: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {line["check"]: line for line in lines if "check" in line}


def environ(issuer: str, **extra: str) -> dict[str, str]:
    return {names.DISCOVERY_URL: f"{issuer}/.well-known/openid-configuration", names.STATE_PARAMETER: PARAMETER,
            **extra}


# --- the whole run --------------------------------------------------------------------------------


def test_a_ready_stack_passes_every_check_and_emits_one_metric_per_check(idp, ca, ssm, out):
    issuer, _ = idp
    with api_server(403) as api, tls_server(ca, 120 * DAY) as idp_domain, tls_server(ca, 90 * DAY) as api_domain:
        handler.configure(environ(issuer, PROBE_CUSTOMERS_URL=api, PROBE_IDP_DOMAIN=idp_domain,
                                  PROBE_API_DOMAIN=api_domain), tls=ca.client_context(), ssm=ssm)
        result = handler.handler({}, None)
    assert result["ok"] is True and result["failed"] == []
    assert list(result["checks"]) == list(names.CHECKS)
    lines = out.lines()
    metrics = emf(lines)
    assert metrics == {**{f"CheckFailed.{c}": 0 for c in names.CHECKS}, "ChecksFailed": 0}
    seen = logs(lines)
    assert set(seen) == set(names.CHECKS)
    assert seen["JWKS-KEYS"]["status"] == "pass" and "kid test-rs256-1" in seen["JWKS-KEYS"]["detail"]
    assert seen["JWKS-ROTATION"]["detail"].startswith("first run: 1 signing kid recorded (test-rs256-1)")
    assert seen["API-ALLOWLIST"]["detail"].startswith("HTTP 403")
    assert "(in 120 days)" in seen["TLS-IDP-DOMAIN"]["detail"] and seen["TLS-IDP-DOMAIN"]["level"] == "INFO"
    state = json.loads(ssm.get_parameter(Name=PARAMETER)["Parameter"]["Value"])
    assert list(state["kids"]) == ["test-rs256-1"] and state["version"] == 1


@pytest.mark.parametrize(("status", "ok", "needle"), [
    (403, True, "the WAF allowlist is active"),
    (200, False, "HTTP 200 to a request from outside Plaid's ranges: the API answered it"),
    (401, False, "HTTP 401 to a request from outside Plaid's ranges: the API answered it"),
    (404, False, "HTTP 404; expected 403"),
])
def test_the_customers_api_must_refuse_a_non_plaid_address(idp, ca, ssm, out, status, ok, needle):
    issuer, _ = idp
    with api_server(status) as api:
        handler.configure(environ(issuer, PROBE_CUSTOMERS_URL=api), tls=ca.client_context(), ssm=ssm)
        result = handler.handler({}, None)
    lines = out.lines()
    assert needle in logs(lines)["API-ALLOWLIST"]["detail"]
    assert emf(lines)["CheckFailed.API-ALLOWLIST"] == (0 if ok else 1)
    assert emf(lines)["ChecksFailed"] == (0 if ok else 1)
    assert result["failed"] == ([] if ok else ["API-ALLOWLIST"])


@pytest.mark.parametrize(("days", "status", "needle"), [
    (90, "pass", "(in 90 days)"),
    (44, "warn", "renew it soon (warn under 45 days)"),
    (30, "warn", "renew it soon"),
    (20, "fail", "renew it now (fail under 21 days)"),
    (-1, "fail", "TLS certificate expired"),
])
def test_tls_expiry_of_the_custom_domains(idp, ca, ssm, out, days, status, needle):
    issuer, _ = idp
    with tls_server(ca, datetime.timedelta(days=days, hours=12)) as domain:
        handler.configure(environ(issuer, PROBE_API_DOMAIN=domain), tls=ca.client_context(), ssm=ssm)
        handler.handler({}, None)
    lines = out.lines()
    line = logs(lines)["TLS-API-DOMAIN"]
    assert line["status"] == status and needle in line["detail"] and domain in line["detail"]
    assert line["level"] == {"pass": "INFO", "warn": "WARNING", "fail": "ERROR"}[status]
    assert emf(lines)["CheckFailed.TLS-API-DOMAIN"] == (1 if status == "fail" else 0)


@pytest.mark.parametrize(("mtls", "status"), [(True, "pass"), (False, "fail")])
def test_under_mutual_tls_a_refused_handshake_keeps_the_probe_out(idp, ca, ssm, out, mtls, status):
    issuer, _ = idp
    with tls_server(ca, 90 * DAY, require_client_cert=True) as domain:
        handler.configure(environ(issuer, PROBE_CUSTOMERS_URL=f"https://{domain}/fdx/v6/customers/current",
                                  PROBE_API_MTLS="true" if mtls else "false"), tls=ca.client_context(), ssm=ssm)
        handler.handler({}, None)
    line = logs(out.lines())["API-ALLOWLIST"]
    assert line["status"] == status
    if mtls:
        assert "the TLS handshake was refused without a client certificate" in line["detail"]
    else:
        assert line["detail"].startswith("no answer (connection failed")


def test_an_untrusted_certificate_fails_the_tls_check(idp, ca, ssm, out):
    issuer, _ = idp
    with tls_server(ca, 90 * DAY) as domain:
        handler.configure(environ(issuer, PROBE_IDP_DOMAIN=domain), tls=None, ssm=ssm)  # the system's trust store
        handler.handler({}, None)
    detail = logs(out.lines())["TLS-IDP-DOMAIN"]["detail"]
    assert "TLS certificate not trusted" in detail


def test_a_kid_removed_between_two_runs_is_warned_and_the_next_key_shown(ca, ssm, out):
    """Its own provider: the key set changes."""
    cert, key = ca.issue("idp-rotation", 400 * DAY)
    port, admin_port = oidc.free_port(), oidc.free_port()
    proc = oidc.spawn({"PORT": str(port), "KEY_ADMIN_PORT": str(admin_port), "TLS_CERT": str(cert),
                       "TLS_KEY": str(key), "CLIENT_ID": "plaid-probe", "CLIENT_SECRET": "0123456789abcdef" * 4,
                       "REDIRECT_URI": "https://cdn.plaid.com/link/v2/stable/oauth.html",
                       "AUDIENCE": "https://api.firstplatypus.example/fdx"})
    try:
        issuer, admin = oidc.wait_ready(proc, "https"), oidc.KeyAdmin(f"http://127.0.0.1:{admin_port}")
        handler.configure(environ(issuer), tls=ca.client_context(), ssm=ssm)
        handler.handler({}, None)  # first run: records test-rs256-1
        out.lines()
        admin.publish("next-key")
        handler.handler({}, None)
        rotation = logs(out.lines())["JWKS-ROTATION"]
        assert rotation["status"] == "pass" and "next key kid next-key first seen" in rotation["detail"]
        assert "sign with it no earlier than" in rotation["detail"]
        admin.sign_with("next-key")
        admin.unpublish("test-rs256-1")
        result = handler.handler({}, None)
    finally:
        oidc.stop([proc])
    lines = out.lines()
    rotation = logs(lines)["JWKS-ROTATION"]
    assert rotation["status"] == "warn" and rotation["level"] == "WARNING"
    assert "kid test-rs256-1 was removed from the JWKS less than 24 h after it was last seen" in rotation["detail"]
    assert emf(lines)["CheckFailed.JWKS-ROTATION"] == 0 and result["ok"] is True  # a warning, not a failure
    state = json.loads(ssm.get_parameter(Name=PARAMETER)["Parameter"]["Value"])
    assert list(state["kids"]) == ["next-key"] and state["kids"]["next-key"]["appeared"] is True


def test_discovery_failure_skips_what_needs_the_document_and_keeps_the_state(ca, ssm, out):
    ssm.put_parameter(Name=PARAMETER, Value='{"kids":{"k":{"first":1,"last":2}},"version":1}', Type="String")
    with api_server(404) as url:  # no discovery document at this URL
        handler.configure({names.DISCOVERY_URL: url, names.STATE_PARAMETER: PARAMETER}, ssm=ssm)
        result = handler.handler({}, None)
    lines = out.lines()
    seen = logs(lines)
    assert seen["DISCOVERY-FETCH"]["detail"] == "HTTP 404, application/json: expected 200"
    assert seen["DISCOVERY-HTTPS"]["status"] == "skip" and seen["JWKS-ROTATION"]["status"] == "skip"
    assert result["failed"] == ["DISCOVERY-FETCH"] and emf(lines)["ChecksFailed"] == 1
    assert ssm.get_parameter(Name=PARAMETER)["Parameter"]["Value"].startswith('{"kids":{"k"')


def test_state_that_cannot_be_read_or_written_fails_the_rotation_check(idp, ca, out):
    class Denied:
        def get_parameter(self, **kwargs: Any) -> Any:  # noqa: ANN401
            raise _client_error("AccessDeniedException")

        def put_parameter(self, **kwargs: Any) -> Any:  # noqa: ANN401
            raise _client_error("AccessDeniedException")

    issuer, _ = idp
    handler.configure(environ(issuer), tls=ca.client_context(), ssm=Denied())
    result = handler.handler({}, None)
    detail = logs(out.lines())["JWKS-ROTATION"]["detail"]
    assert detail == "the stored key ids could not be read (ssm:GetParameter AccessDeniedException)"
    assert result["failed"] == ["JWKS-ROTATION"]


def _client_error(code: str) -> Exception:
    from botocore.exceptions import ClientError

    return ClientError({"Error": {"Code": code, "Message": "secret-looking message"}}, "Op")


def test_a_missing_parameter_is_a_first_run(idp, ca, ssm, out):
    issuer, _ = idp
    handler.configure(environ(issuer), tls=ca.client_context(), ssm=ssm)
    handler.handler({}, None)
    assert logs(out.lines())["JWKS-ROTATION"]["detail"].startswith("first run")


# --- configuration ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("env", "message"), [
    ({}, "PROBE_DISCOVERY_URL is required (the IdP's discovery document URL, as given to Plaid); "
         "PROBE_STATE_PARAMETER is required (the SSM parameter the probe keeps key ids in)"),
    ({names.DISCOVERY_URL: "http://idp.example/.well-known/openid-configuration", names.STATE_PARAMETER: PARAMETER},
     "PROBE_DISCOVERY_URL must be an https:// URL (the IdP's discovery document URL)"),
    ({names.DISCOVERY_URL: "https://u:p@idp.example/x", names.STATE_PARAMETER: PARAMETER},
     "PROBE_DISCOVERY_URL must have no user info or fragment"),
    ({names.DISCOVERY_URL: "https://idp.example/x", names.STATE_PARAMETER: "kids"},
     "PROBE_STATE_PARAMETER must be an SSM parameter name starting with /"),
    ({names.DISCOVERY_URL: "https://idp.example/x", names.STATE_PARAMETER: "/aws/x"},
     "not under /aws or /ssm"),
    ({names.DISCOVERY_URL: "https://idp.example/x", names.STATE_PARAMETER: PARAMETER,
      names.IDP_DOMAIN: "https://auth.bank.example"}, "PROBE_IDP_DOMAIN must be a host name with an optional port"),
    ({names.DISCOVERY_URL: "https://idp.example/x", names.STATE_PARAMETER: PARAMETER,
      names.API_DOMAIN: "api.bank.example:99999"}, "PROBE_API_DOMAIN must be a host name"),
    ({names.DISCOVERY_URL: "https://idp.example/x", names.STATE_PARAMETER: PARAMETER,
      names.CUSTOMERS_URL: "ftp://api.bank.example/x"}, "PROBE_CUSTOMERS_URL must be an https:// URL"),
])
def test_configuration_errors_name_the_variable(env, message):
    with pytest.raises(config.ConfigError) as err:
        config.load(env)
    assert message in str(err.value)


def test_a_valid_configuration():
    cfg = config.load({names.DISCOVERY_URL: " https://idp.example/.well-known/openid-configuration ",
                       names.STATE_PARAMETER: PARAMETER, names.IDP_DOMAIN: "Auth.Bank.example",
                       names.API_DOMAIN: "api.bank.example:8443"})
    assert cfg.idp_domain == config.Domain("auth.bank.example") and str(cfg.api_domain) == "api.bank.example:8443"
    assert cfg.customers_url is None


def test_an_invalid_configuration_fails_every_run_without_a_traceback(out):
    handler.configure({names.DISCOVERY_URL: "http://idp.example/x"})
    lines = out.lines()
    assert any(line.get("level") == "ERROR" and "PROBE_STATE_PARAMETER is required" in line["config_error"]
               for line in lines)
    result = handler.handler({}, None)
    assert result["ok"] is False and result["failed"] == ["CONFIG"]
    lines = out.lines()
    assert emf(lines) == {"ChecksFailed": 1}
    assert not any("Traceback" in json.dumps(line) for line in lines)


def test_the_checks_run_in_order_and_only_configured_ones(idp, ca):
    class Memory:
        text: str | None = None

        def read(self) -> str | None:
            return self.text

        def write(self, text: str) -> None:
            self.text = text

    issuer, _ = idp
    cfg = config.load(environ(issuer))
    results = checks.run(cfg, store=Memory(), now=1_800_000_000, tls=ca.client_context())
    assert [r.check_id for r in results] == [*names.DISCOVERY_CHECKS, "JWKS-KEYS", "JWKS-ROTATION"]
