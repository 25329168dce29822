"""HTTP for ``plaid-ready check``: TLS always verified, one deadline per request, no redirect followed.

The check talks to what Plaid talks to, the way Plaid's servers would: ``https://`` only, certificate
verification on (``--cacert`` adds a private CA to the system's, it never turns verification off), no
redirects followed (an endpoint must answer itself), no proxy, each body limited by size.

**One deadline per request.** Name resolution, connect, the TLS handshake, the status line, the headers and
the body all happen within ``timeout`` seconds in total: the request runs in a worker thread, and when the
deadline passes the caller stops waiting and shuts the worker's socket down, so a server that drips its
headers one byte at a time cannot hold the check longer than the timeout (a per-read timeout alone would
let it). Errors are :class:`NetworkError` with a message that is safe to print (no URL credentials, no body).

**A bounded number of requests.** :class:`Client` is what a run uses: one TLS context, the deadline of each
request, and a budget of requests (readiness.check.run.MAX_REQUESTS); a request past the budget is a bug in the
check, never sent. This is the command line's one HTTP client; the Lambdas have theirs (lambdas/http.py).
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

#: Bodies larger than this are not read further (a discovery document or JWKS is a few KiB).
MAX_BODY_BYTES: Final = 1 << 20
USER_AGENT: Final = "plaid-ready-check"


class NetworkError(Exception):
    """No complete HTTP answer: DNS, connection, TLS, a malformed answer or the deadline. ``str()`` is safe
    to print."""


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    truncated: bool = False  # the body was longer than MAX_BODY_BYTES (only that much was read)

    @property
    def media_type(self) -> str:
        """The Content-Type without parameters, lower case ("" when absent)."""
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    def parsed(self) -> tuple[Any, str | None]:
        """``(value, None)`` for a JSON body, ``(None, why not)`` otherwise: never raises (a body nested
        200,000 levels deep is "nested too deeply", not a RecursionError)."""
        if self.truncated:
            return None, f"the body is larger than {MAX_BODY_BYTES // 1024} KiB"
        try:
            text = self.body.decode("utf-8")
        except UnicodeDecodeError:
            return None, "the body is not UTF-8 text"
        try:
            return json.loads(text), None
        except RecursionError:
            return None, "the body's JSON is nested too deeply to read"
        except ValueError:
            return None, "the body is not JSON"

    def json(self) -> Any:  # noqa: ANN401 - any JSON
        """The body as JSON. Raises ValueError (with the reason) when it is not."""
        value, why = self.parsed()
        if why is not None:
            raise ValueError(why)
        return value

    def json_object(self) -> dict[str, Any] | None:
        """The body as a JSON object, or None when it is not one."""
        value, _ = self.parsed()
        return value if isinstance(value, dict) else None

    def not_an_object(self) -> str:
        """Why :meth:`json_object` is None, for a detail ("the body is not JSON", "... a JSON array")."""
        value, why = self.parsed()
        if why is not None:
            return why
        return "the body is JSON but not an object" if not isinstance(value, dict) else "the body is a JSON object"


def tls_context(cacert: Path | None = None) -> ssl.SSLContext:
    """The system's trust store (plus ``cacert``, a PEM CA bundle), TLS 1.2 or later, verification on."""
    ctx = ssl.create_default_context()
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if cacert is not None:
        ctx.load_verify_locations(cafile=str(cacert))
    return ctx


def _describe(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (f"TLS certificate not trusted ({exc.verify_message or 'verification failed'}); "
                "for a private CA pass --cacert FILE")
    if isinstance(exc, ssl.SSLError):
        return f"TLS handshake failed ({exc.reason or type(exc).__name__})"
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"no complete answer within {timeout:g} s"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "the host name does not resolve"
    if isinstance(exc, http.client.RemoteDisconnected | ConnectionError | http.client.IncompleteRead):
        return "the connection closed before a complete HTTP answer"
    if isinstance(exc, http.client.HTTPException):
        return f"no valid HTTP answer ({type(exc).__name__})"
    if isinstance(exc, OSError):
        return f"network error: {exc.strerror or type(exc).__name__}"
    return f"network error: {type(exc).__name__}"


class _Connection(http.client.HTTPConnection):
    """HTTPS over a socket the deadline can cut: every socket it opens is handed to ``watch`` first."""

    default_port = 443  # no ":443" in the Host header

    def __init__(self, host: str, port: int, *, context: ssl.SSLContext, timeout: float,
                 watch: Callable[[socket.socket], None]) -> None:
        super().__init__(host, port, timeout=timeout)
        self._tls = context
        self._watch = watch

    def connect(self) -> None:
        raw = socket.create_connection((self.host, self.port), self.timeout)
        self._watch(raw)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        tls = self._tls.wrap_socket(raw, server_hostname=self.host, do_handshake_on_connect=False)
        self._watch(tls)
        tls.do_handshake()
        self.sock = tls


class _Attempt:
    """One request in a worker thread; :meth:`expire` cuts it off at the deadline."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.response: Response | None = None
        self.error: BaseException | None = None
        self._lock = threading.Lock()
        self._expired = False
        self._sock: socket.socket | None = None

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            if self._expired:
                sock.close()
                raise TimeoutError("the deadline passed")
            self._sock = sock

    def expire(self) -> None:
        with self._lock:
            self._expired = True
            sock = self._sock
        if sock is not None:
            try:  # the plain socket's shutdown, also for a TLS socket: the blocked read returns at once
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except OSError:
                pass

    def run(self, conn: _Connection, method: str, target: str, body: bytes | None,
            headers: Mapping[str, str]) -> None:
        try:
            conn.request(method, target, body=body, headers=dict(headers))
            resp = conn.getresponse()
            data = resp.read(MAX_BODY_BYTES + 1)
            self.response = Response(resp.status, {k.lower(): v for k, v in resp.getheaders()},
                                     data[:MAX_BODY_BYTES], truncated=len(data) > MAX_BODY_BYTES)
        except Exception as exc:  # noqa: BLE001 - handed to the caller, described there
            self.error = exc
        finally:
            conn.close()
            self.done.set()


def request(method: str, url: str, *, context: ssl.SSLContext, timeout: float,
            headers: Mapping[str, str] | None = None, form: Mapping[str, str] | None = None) -> Response:
    """One HTTPS request, complete within ``timeout`` seconds. Any HTTP status is a :class:`Response`; no
    complete answer in time raises :class:`NetworkError`."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "https":
        raise NetworkError("not sent: the URL is not https://")
    try:
        host, port = parts.hostname, parts.port or 443
    except ValueError:
        raise NetworkError("not sent: the URL's port is not a number from 0 to 65535") from None
    if not host:
        raise NetworkError("not sent: the URL has no host")
    target = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    all_headers = {"User-Agent": USER_AGENT, "Accept": "application/json", "Connection": "close", **(headers or {})}
    if data is not None:
        all_headers["Content-Type"] = "application/x-www-form-urlencoded"
    attempt = _Attempt()
    conn = _Connection(host, port, context=context, timeout=timeout, watch=attempt.watch)
    threading.Thread(target=attempt.run, args=(conn, method, target, data, all_headers),
                     name="plaid-ready-check-http", daemon=True).start()
    if not attempt.done.wait(timeout):
        attempt.expire()
        raise NetworkError(f"no complete answer within {timeout:g} s (DNS, connection, TLS, headers and body "
                           "share one deadline)")
    if attempt.error is not None:
        raise NetworkError(_describe(attempt.error, timeout))
    assert attempt.response is not None
    return attempt.response


class Client:
    """HTTPS for one run: ``context`` for TLS, ``timeout`` seconds for each request (:func:`request`), at most
    ``max_requests`` requests. ``sent`` counts them."""

    def __init__(self, context: ssl.SSLContext, timeout: float, max_requests: int) -> None:
        self.context = context
        self.timeout = timeout
        self.max_requests = max_requests
        self.sent = 0

    def send(self, method: str, url: str, headers: Mapping[str, str] | None = None,
             form: Mapping[str, str] | None = None) -> Response:
        """One request within the deadline. Raises :class:`NetworkError`; RuntimeError past the budget (a bug:
        docs/check.md states the whole-run bound from it)."""
        self.sent += 1
        if self.sent > self.max_requests:
            raise RuntimeError(f"a run makes at most {self.max_requests} requests (docs/check.md, Bounds)")
        return request(method, url, context=self.context, timeout=self.timeout, headers=headers, form=form)
