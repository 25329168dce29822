"""The /customers/current Lambda's costs, each against a baseline measured in the same run.

Prints figures; asserts nothing (house rule 6). Targets (issue 4):
- warm request for a valid token: <= 1.3x the floor (PyJWT verifying the same token with a pre-parsed key);
- cold start (importing the handler in a fresh interpreter): <= 150 ms, shown against `import jwt` alone;
- JWKS fetches per 1,000 warm valid requests: 0; per 1,000 unknown-kid requests within one cooldown: 1;
- the size of the built package.

    .venv/bin/python benchmarks/bench_lambda.py
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# The handler builds its state at import: give it a valid configuration (reconfigured below).
os.environ.update(TOKEN_ISSUER="https://idp.example/", JWKS_URI="https://idp.example/jwks", TOKEN_AUDIENCE="x")

import jwt  # noqa: E402

from lambdas import build  # noqa: E402
from lambdas.customers_current import handler as lambda_handler  # noqa: E402
from lambdas.customers_current import verifier  # noqa: E402
from tests.lambdas.idp import AUDIENCE, ISSUER, env, event, jwks_server, rsa_key, token  # noqa: E402


def per_call(fn, n: int) -> float:
    best = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        best.append((time.perf_counter() - start) / n)
    return min(best)


def import_time(code: str, runs: int = 9) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, env={
            **os.environ, "TOKEN_ISSUER": ISSUER, "JWKS_URI": "https://idp.example/jwks", "TOKEN_AUDIENCE": AUDIENCE})
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    key = rsa_key("bench")
    logging.disable(logging.CRITICAL)  # measure the work, not the terminal
    with jwks_server(key) as srv, contextlib.redirect_stdout(io.StringIO()):
        lambda_handler.configure(env(srv.url))
        tok = token(key)
        ev = event(tok)
        assert lambda_handler.handler(ev, None)["statusCode"] == 200
        public = key.private.public_key()

        def floor() -> None:
            jwt.decode(tok, public, algorithms=["RS256"], audience=AUDIENCE, issuer=ISSUER)

        floor_s = per_call(floor, 300)
        handler_s = per_call(lambda: lambda_handler.handler(ev, None), 300)
        state = lambda_handler._state
        verify_s = per_call(lambda: verifier.verify(tok, state.jwks, state.config.policy), 300)
        before = srv.fetches
        for _ in range(1000):
            lambda_handler.handler(ev, None)
        warm_fetches = srv.fetches - before
        stranger = rsa_key("stranger")
        forged = [token(stranger, headers={"kid": f"unknown-{i}"}) for i in range(1000)]
        lambda_handler.configure(env(srv.url))
        lambda_handler.handler(ev, None)  # cold start fetch
        before = srv.fetches
        for t in forged:
            lambda_handler.handler(event(t), None)
        flood_fetches = srv.fetches - before
    logging.disable(logging.NOTSET)
    empty = import_time("pass")
    jwt_only = import_time("import jwt")
    handler_import = import_time("import lambdas.customers_current.handler")
    pkg = build.build_package("arm64", "3.13")
    print(f"warm request, floor (PyJWT decode, pre-parsed key) {floor_s * 1e6:8.1f} us")
    print(f"warm request, handler                             {handler_s * 1e6:8.1f} us  "
          f"ratio {handler_s / floor_s:.2f}x (target <= 1.3x)")
    print(f"  of which token validation (verify)              {verify_s * 1e6:8.1f} us  "
          f"ratio {verify_s / floor_s:.2f}x; the rest is the log line and the EMF metrics")
    print(f"cold start: interpreter alone                     {empty * 1000:8.1f} ms")
    jwt_ms, handler_ms = (jwt_only - empty) * 1000, (handler_import - empty) * 1000
    print(f"cold start: import jwt                            {jwt_ms:8.1f} ms (over the interpreter)")
    print(f"cold start: import handler                        {handler_ms:8.1f} ms "
          f"(over the interpreter; target <= 150 ms)  ratio to jwt {handler_ms / jwt_ms:.2f}x")
    print(f"JWKS fetches per 1,000 warm valid requests        {warm_fetches:8d}     (target 0)")
    print(f"JWKS fetches per 1,000 unknown-kid requests       {flood_fetches:8d}     (target <= 1, one cooldown)")
    print(f"package size (arm64, zip)                         {pkg.size_bytes / 1e6:8.2f} MB")


if __name__ == "__main__":
    main()
