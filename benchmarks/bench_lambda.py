"""The /customers/current Lambda's costs, each against a baseline measured in the same run.

Prints figures as ratios; asserts nothing (house rule 6). Targets (issues 8 and 18):
- warm request for a valid token: <= 2.0x the floor (PyJWT decoding the same token with a pre-parsed key,
  checking issuer and audience), with the log line (and any EMF record) written to a real file descriptor
  (os.devnull), not a memory buffer; CPU time, the best of interleaved batches; the parts of the request are
  measured too;
- cold start as Lambda runs it: the package built for this machine's architecture, extracted to a read-only
  folder, imported by CPython 3.13 with PYTHONDONTWRITEBYTECODE=1; CPU time of the import, measured inside the
  child (median of RUNS fresh interpreters, interleaved). The shipped package (with its bytecode) against
  (a) the same package without bytecode (target <= 0.6x) and against (b) `import jwt` + cryptography's RSA
  module from the same shipped package (target <= 1.35x);
- JWKS fetches per 1,000 warm valid requests: 0; per 1,000 unknown-kid requests within one cooldown: <= 1;
- the size of the built packages.

    .venv/bin/python benchmarks/bench_lambda.py [--runs 15]
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import platform
import shutil
import stat
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
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

RUNNER_ARCH = "arm64" if platform.machine().lower() in ("aarch64", "arm64") else "x86_64"
#: What the child measures: CPU time (user + system) of one import statement in a fresh interpreter.
CHILD = ("import time, sys\n"
         "start = time.process_time()\n"
         "exec(sys.argv[1])\n"
         "print(time.process_time() - start)\n")
HANDLER_IMPORT = "import lambdas.customers_current.handler"
FLOOR_IMPORT = "import jwt\nfrom cryptography.hazmat.primitives.asymmetric import rsa"


def per_call(fns: dict[str, Callable[[], object]], n: int, rounds: int = 9) -> dict[str, float]:
    """CPU seconds per call of each function: the best of ``rounds`` batches of ``n`` calls, batches interleaved so
    that drift in the machine's load hits every function alike (CPU time: waiting for a core does not count)."""
    best: dict[str, float] = {name: float("inf") for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            start = time.process_time()
            for _ in range(n):
                fn()
            best[name] = min(best[name], (time.process_time() - start) / n)
    return best


def warm() -> dict[str, float | int]:
    key = rsa_key("bench")
    devnull = open(os.devnull, "w")  # noqa: SIM115 - a real file descriptor for the logs, closed below
    log_handler = lambda_handler.logger.registered_handler
    if not isinstance(log_handler, logging.StreamHandler):
        raise RuntimeError(f"the Lambda's log handler is a {type(log_handler).__name__}, not a StreamHandler")
    previous_stream = log_handler.setStream(devnull)
    out: dict[str, float | int] = {}
    try:
        with jwks_server(key) as srv, contextlib.redirect_stdout(devnull):  # EMF records print to stdout
            lambda_handler.configure(env(srv.url))
            tok = token(key)
            ev = event(tok)
            assert lambda_handler.handler(ev, None)["statusCode"] == 200
            public = key.private.public_key()
            state = lambda_handler._state
            jwks, config = state.jwks, state.config
            if jwks is None or config is None:
                raise RuntimeError("the Lambda is not configured after its first request")
            line = {"outcome": "ok", "status": 200, "plaid_request_id": "r", "apigw_request_id": "a",
                    "customer_ref": "0123456789abcdef", "customer_id_length": 24}

            def floor() -> None:
                jwt.decode(tok, public, algorithms=["RS256"], audience=AUDIENCE, issuer=ISSUER)

            out.update(per_call({
                "floor": floor,
                "handler": lambda: lambda_handler.handler(ev, None),
                "verify": lambda: verifier.verify(tok, jwks, config.policy),
                "handle": lambda: lambda_handler._handle(ev),
                "log": lambda: lambda_handler.logger.info("customers/current", extra=line),
            }, 300))
            before = srv.fetches
            for _ in range(1000):
                lambda_handler.handler(ev, None)
            out["warm_fetches"] = srv.fetches - before
            stranger = rsa_key("stranger")
            forged = [token(stranger, headers={"kid": f"unknown-{i}"}) for i in range(1000)]
            lambda_handler.configure(env(srv.url))
            lambda_handler.handler(ev, None)  # cold start fetch
            before = srv.fetches
            for t in forged:
                lambda_handler.handler(event(t), None)
            out["flood_fetches"] = srv.fetches - before
    finally:
        log_handler.setStream(previous_stream)
        devnull.close()
    return out


def _read_only(folder: Path) -> None:
    for path in [*folder.rglob("*"), folder]:
        mode = path.stat().st_mode
        path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def _writable(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        if path.is_dir() or path.is_file():
            path.chmod(path.stat().st_mode | stat.S_IWUSR)


def cold(runs: int) -> tuple[dict[str, float], build.BuildResult]:
    """Median import CPU time (s) of each case, in fresh CPython 3.13 interpreters, runs interleaved."""
    pkg = build.build_package(RUNNER_ARCH, "3.13")
    interp = build.find_python("3.13")
    tmp = Path(tempfile.mkdtemp(prefix="bench-cold-"))
    shipped, bare = tmp / "shipped", tmp / "no-bytecode"
    with zipfile.ZipFile(pkg.zip_path) as zf:
        zf.extractall(shipped)
        for name in zf.namelist():
            if not name.endswith(".pyc"):
                zf.extract(name, bare)
    for folder in (shipped, bare):
        _read_only(folder)
    cases = {"shipped": (shipped, HANDLER_IMPORT), "no-bytecode": (bare, HANDLER_IMPORT),
             "jwt+rsa": (shipped, FLOOR_IMPORT)}
    times: dict[str, list[float]] = {name: [] for name in cases}
    base = {"PATH": os.environ.get("PATH", ""), "PYTHONDONTWRITEBYTECODE": "1", "LANG": "C.UTF-8",
            "TOKEN_ISSUER": ISSUER, "JWKS_URI": "https://idp.example/jwks", "TOKEN_AUDIENCE": AUDIENCE,
            "TOKEN_CLIENT_ID": CLIENT_ID, "POWERTOOLS_SERVICE_NAME": "customers-current",
            "POWERTOOLS_METRICS_NAMESPACE": "PlaidReadyIdp", "AWS_LAMBDA_FUNCTION_NAME": "bench"}
    try:
        for i in range(runs + 1):
            for name, (folder, code) in cases.items():
                proc = subprocess.run([interp.path, "-s", "-c", CHILD, code], cwd=tmp, check=True,
                                      capture_output=True, text=True, env={**base, "PYTHONPATH": str(folder)})
                if i:  # the first round warms the page cache
                    times[name].append(float(proc.stdout.strip().splitlines()[-1]))
    finally:
        _writable(tmp)
        shutil.rmtree(tmp, ignore_errors=True)
    return {name: statistics.median(t) for name, t in times.items()}, pkg


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15, help="fresh interpreters per cold-start case (median)")
    args = ap.parse_args()
    w = warm()
    imports, pkg = cold(args.runs)
    floor_s, handler_s = w["floor"], w["handler"]
    print(f"warm request, floor (PyJWT decode, pre-parsed key)   {floor_s * 1e6:8.1f} us")
    print(f"warm request, handler (log line to os.devnull)       {handler_s * 1e6:8.1f} us  "
          f"ratio {handler_s / floor_s:.2f}x (target <= 2.0x)")
    print(f"  parts: token validation (verify)                   {w['verify'] * 1e6:8.1f} us  "
          f"ratio {w['verify'] / floor_s:.2f}x")
    print(f"         routing + validation + response (_handle)   {w['handle'] * 1e6:8.1f} us")
    print(f"         the Powertools log line alone               {w['log'] * 1e6:8.1f} us")
    print(f"         the rest (handler - _handle - log line)     "
          f"{(handler_s - w['handle'] - w['log']) * 1e6:8.1f} us")
    shipped, bare, floor = imports["shipped"], imports["no-bytecode"], imports["jwt+rsa"]
    print(f"cold start (CPython {pkg.python}, {RUNNER_ARCH} package, read-only, PYTHONDONTWRITEBYTECODE=1), "
          f"CPU time of the import, median of {args.runs}:")
    print(f"  import handler, shipped package (bytecode)         {shipped * 1000:8.1f} ms")
    print(f"  import handler, same package without bytecode      {bare * 1000:8.1f} ms  "
          f"shipped/this {shipped / bare:.2f}x (target <= 0.6x)")
    print(f"  import jwt + cryptography RSA, shipped package     {floor * 1000:8.1f} ms  "
          f"shipped/this {shipped / floor:.2f}x (target <= 1.35x)")
    print(f"JWKS fetches per 1,000 warm valid requests           {w['warm_fetches']:8d}     (target 0)")
    print(f"JWKS fetches per 1,000 unknown-kid requests          {w['flood_fetches']:8d}     "
          "(target <= 1, one cooldown)")
    for function in build.FUNCTIONS.values():
        for arch in sorted({"arm64", RUNNER_ARCH}):
            size = build.build_function(function, arch, "3.13").size_bytes
            print(f"package size, {function.name} ({arch}, zip)".ljust(53) + f"{size / 1e6:8.2f} MB")


if __name__ == "__main__":
    main()
