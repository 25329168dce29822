"""Serve the /customers/current handler over HTTP on loopback, for curl and end-to-end tests.

    plaid-ready serve-customers --port 8080 [--host 127.0.0.1]

Configuration comes from the same environment variables as in AWS (docs/lambda.md). Each HTTP request
becomes an API Gateway REST proxy event (payload 1.0); the handler's response becomes the HTTP response.
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


def event_for(method: str, target: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    url = urlsplit(target)
    query = dict(parse_qsl(url.query)) or None
    return {
        "resource": url.path, "path": url.path, "httpMethod": method, "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()}, "queryStringParameters": query,
        "requestContext": {"requestId": str(uuid.uuid4()), "stage": "local", "httpMethod": method},
        "body": base64.b64encode(body).decode() if body else None, "isBase64Encoded": bool(body),
    }


class _Handler(BaseHTTPRequestHandler):
    server_version = "plaid-ready-local"

    def _serve(self) -> None:
        from lambdas.customers_current import handler as lambda_handler

        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, 1 << 20)) if length else b""
        event = event_for(self.command, self.path, {k: v for k, v in self.headers.items()}, body)
        result = lambda_handler.handler(event, None)
        payload = result.get("body", "").encode()
        self.send_response(int(result["statusCode"]))
        for key, value in (result.get("headers") or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the handler logs each request
        pass


def make_server(host: str, port: int) -> ThreadingHTTPServer:
    from lambdas.customers_current import config, handler

    config.load(os.environ)  # fail fast with a clear message
    handler.configure(os.environ)
    return ThreadingHTTPServer((host, port), _Handler)


def run(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="plaid-ready serve-customers",
                                 description="Serve GET /customers/current on loopback.")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    try:
        args = ap.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) and 2
    if not 0 <= args.port <= 65535:
        print("plaid-ready serve-customers: --port must be 0-65535", file=sys.stderr)
        return 2
    from lambdas.customers_current.config import ConfigError

    try:
        server = make_server(args.host, args.port)
    except ConfigError as exc:
        print(f"plaid-ready serve-customers: invalid configuration: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"plaid-ready serve-customers: cannot listen on {args.host}:{args.port}: {exc.strerror}",
              file=sys.stderr)
        return 2
    host, port = server.server_address[:2]
    print(f"serving GET http://{host}:{port}/fdx/v6/customers/current (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
