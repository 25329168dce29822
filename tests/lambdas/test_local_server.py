"""`plaid-ready serve-customers`: the handler over HTTP (or HTTPS with --tls-cert/--tls-key) on 127.0.0.1."""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.harness import ROOT
from tests.lambdas.idp import SUBJECT, env, jwks_server, token


def test_serves_the_handler_over_http(rsa):
    with jwks_server(rsa) as srv:
        proc = subprocess.Popen([sys.executable, "-m", "readiness.cli", "serve-customers", "--port", "0"],
                                cwd=ROOT, env={**os.environ, **env(srv.url)}, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            line = proc.stdout.readline()
            assert line.startswith("serving GET http://127.0.0.1:"), line + proc.stderr.read()
            base = line.split()[2].rsplit("/fdx", 1)[0]
            url = f"{base}/fdx/v6/customers/current"
            req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token(rsa)}"})
            deadline = time.monotonic() + 10
            while True:
                try:
                    with urllib.request.urlopen(req, timeout=5) as resp:
                        assert resp.status == 200 and json.loads(resp.read()) == {"customerId": SUBJECT}
                        assert resp.headers["Cache-Control"] == "no-store"
                    break
                except urllib.error.URLError:
                    assert time.monotonic() < deadline
                    time.sleep(0.1)
            with pytest.raises(urllib.error.HTTPError) as info:
                urllib.request.urlopen(urllib.request.Request(url), timeout=5)
            assert info.value.code == 401 and json.loads(info.value.read())["code"] == 602
        finally:
            proc.terminate()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 (the rehearsal in docs/check.md makes one with openssl)."""
    out = tmp_path_factory.mktemp("serve-tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    (out / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (out / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                    serialization.NoEncryption()))
    return str(out / "cert.pem"), str(out / "key.pem")


def test_serves_https_with_tls_cert_and_key(rsa, self_signed):
    cert, key = self_signed
    with jwks_server(rsa) as srv:
        proc = subprocess.Popen([sys.executable, "-m", "readiness.cli", "serve-customers", "--port", "0",
                                 "--tls-cert", cert, "--tls-key", key],
                                cwd=ROOT, env={**os.environ, **env(srv.url)}, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            line = proc.stdout.readline()
            assert line.startswith("serving GET https://127.0.0.1:"), line + proc.stderr.read()
            url = line.split()[2]
            port = int(url.split(":")[2].split("/")[0])
            ctx = ssl.create_default_context(cafile=cert)
            # A client that connects and says nothing holds only its own connection: the next one is served.
            with socket.create_connection(("127.0.0.1", port), timeout=5):
                req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token(rsa)}"})
                with urllib.request.urlopen(req, timeout=5, context=ctx) as resp:
                    assert resp.status == 200 and json.loads(resp.read()) == {"customerId": SUBJECT}
            with pytest.raises(urllib.error.URLError) as untrusted:  # it is TLS, verified against the certificate
                urllib.request.urlopen(url, timeout=5, context=ssl.create_default_context())
            assert isinstance(untrusted.value.reason, ssl.SSLCertVerificationError)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
        assert "Traceback" not in proc.stderr.read()


@pytest.mark.parametrize(("argv", "message"), [
    (["--tls-cert", "/nonexistent/cert.pem"], "give --tls-cert and --tls-key together"),
    (["--tls-cert", "/nonexistent/cert.pem", "--tls-key", "/nonexistent/key.pem"],
     "--tls-cert or --tls-key: no such file"),
    (["--tls-cert", __file__, "--tls-key", __file__], "--tls-cert/--tls-key: not a PEM certificate and its key"),
])
def test_bad_tls_arguments_exit_2(argv, message):
    base = {**os.environ, **env("https://idp.example/jwks")}
    r = subprocess.run([sys.executable, "-m", "readiness.cli", "serve-customers", "--port", "0", *argv], cwd=ROOT,
                       env=base, capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and r.stderr.startswith(f"plaid-ready serve-customers: {message}")
    assert "Traceback" not in r.stderr and r.stdout == ""


@pytest.mark.parametrize(("argv", "environ", "message"), [
    (["--port", "x"], {}, "invalid int value"),
    (["--port", "8080"], {"TOKEN_ISSUER": ""}, "plaid-ready serve-customers: invalid configuration: TOKEN_ISSUER"),
    (["--port", "99999"], {}, "--port must be 0-65535"),
    (["--port", "8080"], {"TOKEN_CLIENT_ID": ""}, "invalid configuration: TOKEN_CLIENT_ID is required"),
    (["--port", "8080"], {"TOKEN_CLIENT_CLAIM": "aud"}, "TOKEN_CLIENT_CLAIM must be one of client_id, azp, cid"),
])
def test_bad_arguments_exit_2(argv, environ, message):
    base = {**os.environ, **env("https://idp.example/jwks"), **environ}
    r = subprocess.run([sys.executable, "-m", "readiness.cli", "serve-customers", *argv], cwd=ROOT,
                       env={k: v for k, v in base.items() if v}, capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr
