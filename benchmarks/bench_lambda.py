"""The /customers/current Lambda's costs, each against a baseline measured in the same run.

Prints figures as ratios; asserts nothing (house rule 4). Targets (issue 8):
- warm request for a valid token: <= 2x the floor (PyJWT decoding the same token with a pre-parsed key,
  checking issuer and audience), with the log line and the EMF metrics written to a real file descriptor
  (os.devnull), not a memory buffer;
- cold start, importing the handler in a fresh interpreter: <= 1.3x importing PyJWT together with the
  cryptography primitives the handler uses, both measured over the bare interpreter's start-up;
- JWKS fetches per 1,000 warm valid requests: 0; per 1,000 unknown-kid requests within one cooldown: <= 1;
- the size of the built package.

    .venv/bin/python benchmarks/bench_lambda.py
"""

from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# The handler builds its state at import: give it a valid configuration (reconfigured below).
os.environ.update(TOKEN_ISSUER="https://idp.example/", JWKS_URI="https://idp.example/jwks", TOKEN_AUDIENCE="x",
                  TOKEN_CLIENT_ID="bench-client")

import jwt  # noqa: E402

from lambdas import build  # noqa: E402
from lambdas.customers_current import handler as lambda_handler  # noqa: E402
from lambdas.customers_current import verifier  # noqa: E402
from tests.lambdas.idp import AUDIENCE, CLIENT_ID, ISSUER, env, event, jwks_server, rsa_key, token  # noqa: E402

#: The baseline of the cold start: PyJWT and the cryptography primitives the handler's PyJWT uses (RSA, EC,
#: padding, hashes, key loading). PyJWT imports them itself when cryptography is installed; named here so
#: the baseline cannot shrink if that changes.
BASELINE_IMPORT = ("import jwt; from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa; "
                   "from cryptography.hazmat.primitives import hashes, serialization")
HANDLER_IMPORT = "import lambdas.customers_current.handler"


def per_call(fn, n: int) -> float:
    best = []
    for _ in range(7):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        best.append((time.perf_counter() - start) / n)
    return min(best)


def import_times(codes: dict[str, str], runs: int = 15) -> dict[str, float]:
    """Median wall time of `python -c code` for each code, runs interleaved so drift hits all alike. Byte code
    is cached in a temporary PYTHONPYCACHEPREFIX (warmed first), so every import reads .pyc files, as the
    installed dependencies do, whatever PYTHONDONTWRITEBYTECODE says."""
    times: dict[str, list[float]] = {name: [] for name in codes}
    with tempfile.TemporaryDirectory() as cache:
        environ = {**os.environ, "PYTHONPYCACHEPREFIX": cache, "PYTHONDONTWRITEBYTECODE": "",
                   "TOKEN_ISSUER": ISSUER, "JWKS_URI": "https://idp.example/jwks", "TOKEN_AUDIENCE": AUDIENCE,
                   "TOKEN_CLIENT_ID": CLIENT_ID}
        for code in codes.values():  # warm the byte-code cache
            subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, env=environ)
        for _ in range(runs):
            for name, code in codes.items():
                start = time.perf_counter()
                subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, env=environ)
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def main() -> None:
    key = rsa_key("bench")
    devnull = open(os.devnull, "w")  # noqa: SIM115 - a real file descriptor for the logs, closed below
    log_handler = lambda_handler.logger.registered_handler
    previous_stream = log_handler.setStream(devnull)
    try:
        with jwks_server(key) as srv, contextlib.redirect_stdout(devnull):  # EMF metrics print to stdout
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
    finally:
        log_handler.setStream(previous_stream)
        devnull.close()
    imports = import_times({"empty": "pass", "baseline": BASELINE_IMPORT, "handler": HANDLER_IMPORT})
    pkg = build.build_package("arm64", "3.13")

    print(f"warm request, floor (PyJWT decode, pre-parsed key)  {floor_s * 1e6:8.1f} us")
    print(f"warm request, handler (logs + EMF to os.devnull)    {handler_s * 1e6:8.1f} us  "
          f"ratio {handler_s / floor_s:.2f}x (target <= 2x)")
    print(f"  of which token validation (verify)                {verify_s * 1e6:8.1f} us  "
          f"ratio {verify_s / floor_s:.2f}x; the rest ({(handler_s - verify_s) * 1e6:.1f} us) is routing, "
          f"the log line and the EMF metrics")
    empty = imports["empty"]
    base_ms, handler_ms = (imports["baseline"] - empty) * 1000, (imports["handler"] - empty) * 1000
    print(f"cold start: interpreter alone                       {empty * 1000:8.1f} ms")
    print(f"cold start: import jwt + cryptography primitives    {base_ms:8.1f} ms (over the interpreter)")
    print(f"cold start: import handler                          {handler_ms:8.1f} ms (over the interpreter)  "
          f"ratio {handler_ms / base_ms:.2f}x (target <= 1.3x)")
    print(f"JWKS fetches per 1,000 warm valid requests          {warm_fetches:8d}     (target 0)")
    print(f"JWKS fetches per 1,000 unknown-kid requests         {flood_fetches:8d}     (target <= 1, one cooldown)")
    print(f"package size (arm64, zip)                           {pkg.size_bytes / 1e6:8.2f} MB")


if __name__ == "__main__":
    main()
