"""`plaid-ready serve-customers`: the handler over HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

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
