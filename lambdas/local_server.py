"""Serve the /customers/current handler on loopback, for curl, rehearsals and end-to-end tests.

    plaid-ready serve-customers --port 8080 [--host 127.0.0.1] [--tls-cert FILE --tls-key FILE]

Configuration comes from the same environment variables as in AWS (docs/lambda.md). Each HTTP request
becomes an API Gateway REST proxy event (payload 1.0); the handler's response becomes the HTTP response.
With ``--tls-cert`` and ``--tls-key`` (PEM files; the certificate may be self-signed) it speaks HTTPS, so
``plaid-ready check --customers-url https://...`` can be pointed at it (docs/check.md, "Rehearsal"). The TLS
handshake happens in each connection's own thread, so a client that connects and says nothing holds only its
own connection, for at most :data:`CONNECTION_SECONDS`.
"""

from __future__ import annotations

import base64
import os
import ssl
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final
from urllib.parse import parse_qsl, urlsplit

#: Each socket operation of a connection (the TLS handshake, each read) ends within this many seconds.
CONNECTION_SECONDS: Final = 10.0


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
    timeout = CONNECTION_SECONDS

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


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    tls: ssl.SSLContext | None = None

    def finish_request(self, request: Any, client_address: Any) -> None:  # noqa: ANN401 - socketserver's types
        if self.tls is not None:  # in the connection's thread: a silent client cannot stall the accept loop
            request.settimeout(CONNECTION_SECONDS)
            try:
                request = self.tls.wrap_socket(request, server_side=True)
            except (OSError, ssl.SSLError):
                return  # a failed handshake is the client's problem: no traceback on the console
        super().finish_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:  # noqa: ANN401 - no traceback
        pass


def tls_context(cert: str, key: str) -> ssl.SSLContext:
    """A server context from PEM files, TLS 1.2 or later. Raises OSError or ssl.SSLError."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    return ctx


def make_server(host: str, port: int, tls: ssl.SSLContext | None = None) -> ThreadingHTTPServer:
    from lambdas.customers_current import config, handler

    config.load(os.environ)  # fail fast with a clear message
    handler.configure(os.environ)
    server = _Server((host, port), _Handler)
    server.tls = tls
    return server


class ServeError(Exception):
    """The options or the configuration cannot serve (exit 2); the message is one line."""


def serve(host: str, port: int, tls_cert: str | None = None, tls_key: str | None = None) -> None:
    """``plaid-ready serve-customers`` (its options parsed by readiness/cli.py): serve until Ctrl-C. Raises
    ServeError for options or a configuration that cannot serve."""
    if not 0 <= port <= 65535:
        raise ServeError("--port must be 0-65535")
    if (tls_cert is None) != (tls_key is None):
        raise ServeError("give --tls-cert and --tls-key together")
    tls = None
    if tls_cert is not None and tls_key is not None:
        try:
            tls = tls_context(tls_cert, tls_key)
        except FileNotFoundError:
            raise ServeError("--tls-cert or --tls-key: no such file") from None
        except (OSError, ssl.SSLError) as exc:
            why = getattr(exc, "reason", None) or exc.strerror or type(exc).__name__
            raise ServeError(f"--tls-cert/--tls-key: not a PEM certificate and its key ({why})") from None
    from lambdas.customers_current.config import ConfigError

    try:
        server = make_server(host, port, tls)
    except ConfigError as exc:
        raise ServeError(f"invalid configuration: {exc}") from None
    except OSError as exc:
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    bound_host, bound_port = server.server_address[:2]
    shown_host = bound_host.decode() if isinstance(bound_host, bytes) else bound_host
    scheme = "https" if tls is not None else "http"
    print(f"serving GET {scheme}://{shown_host}:{bound_port}/fdx/v6/customers/current (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
