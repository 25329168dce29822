"""The Lambdas' one HTTP client: a GET with one total deadline, a size cap, no redirect and verified TLS.

Used by the customers Lambda's JWKS fetch (lambdas/customers_current/verifier.py), the scope adapter's discovery
fetch (lambdas/scope_adapter/handler.py) and the readiness probe (lambdas/readiness_probe/, :func:`fetch`: any
status). Standard library only (it ships in every Lambda package, lambdas/build/).

- **One deadline** covers the TCP connect (every address tried), the TLS handshake, sending the request, the status
  line, the headers and the body: each step waits at most what is left of it, so a peer that drips bytes (a byte
  per second never trips a per-read timeout) cannot stretch the total. Name resolution is the resolver's (Lambda's
  answers in milliseconds) and is not bounded here.
- **A size cap**: a ``Content-Length`` over it is refused before the body is read; a body that grows past it is cut
  at the cap and refused.
- **No redirect**: any status but 200 is a failure of :func:`get` (a 3xx is never followed); :func:`fetch` returns
  any status as an :class:`Answer`.
- **Verified TLS** for ``https://``: the system's trust store (``ssl.create_default_context``, built on the first
  fetch, not at import: loading the CA bundle costs a cold start), or the context given. ``http://`` is spoken
  too; the callers' configuration allows it for loopback addresses only.

Every failure is a :class:`FetchError` whose message is short and safe to log (no response content).
"""

from __future__ import annotations

import http.client
import io
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Any, Final, cast
from urllib.parse import urlsplit

DEFAULT_USER_AGENT: Final = "plaid-ready-idp"


class FetchError(Exception):
    """A fetch that did not end with a complete 200 answer within the deadline and the cap. ``str()`` is short and
    safe to log: ``timed out``, ``HTTP 500``, ``body over N bytes``, ``connection failed (ConnectionRefusedError)``,
    ``TLS certificate not trusted (SSLCertVerificationError)``, ``bad HTTP response (BadStatusLine)``."""


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("deadline exceeded")
    return left


class _DeadlineReader(io.RawIOBase):
    """The read side of a connected socket where every read waits at most what is left of one deadline.
    Passed to ``http.client.HTTPResponse`` as its socket (it calls ``makefile``), which does the HTTP parsing
    (status, headers, chunked, length)."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        super().__init__()
        self._sock, self._deadline = sock, deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:  # noqa: ANN401 - any writable buffer
        self._sock.settimeout(_remaining(self._deadline))
        return self._sock.recv_into(buffer)

    def makefile(self, mode: str = "rb") -> io.BufferedReader:
        return io.BufferedReader(self)


_default_tls: ssl.SSLContext | None = None


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback address: the one place plain ``http://`` is allowed (local runs and tests)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def default_tls() -> ssl.SSLContext:
    """The system's trust store, verification on; built once per execution environment, on first use."""
    global _default_tls
    if _default_tls is None:
        _default_tls = ssl.create_default_context()
    return _default_tls


def _connect(host: str, port: int, deadline: float) -> socket.socket:
    """A TCP connection within the deadline, every address tried in turn (the deadline covers them all)."""
    error: OSError | None = None
    for family, kind, proto, _, address in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(_remaining(deadline))
            sock.connect(address)
            return sock
        except OSError as exc:
            sock.close()
            if isinstance(exc, TimeoutError):
                raise
            error = exc
    raise error or OSError(f"no address for {host}")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return "TLS certificate not trusted (SSLCertVerificationError)"
    if isinstance(exc, OSError):
        return f"connection failed ({type(exc).__name__})"
    return f"bad HTTP response ({type(exc).__name__})"


@dataclass(frozen=True)
class Answer:
    """A complete HTTP answer of :func:`fetch`: any status, the media type (Content-Type without parameters, lower
    case, "" when absent) and the body (at most the cap)."""

    status: int
    media_type: str
    body: bytes


def get(url: str, *, deadline_seconds: float, max_bytes: int, tls: ssl.SSLContext | None = None,
        user_agent: str = DEFAULT_USER_AGENT) -> bytes:
    """GET ``url`` and return the body of a 200 answer, all within ``deadline_seconds`` and at most ``max_bytes``.
    Raises :class:`FetchError`."""
    return _exchange(url, deadline_seconds, max_bytes, tls, user_agent, only_200=True).body


def fetch(url: str, *, deadline_seconds: float, max_bytes: int, tls: ssl.SSLContext | None = None,
          user_agent: str = DEFAULT_USER_AGENT) -> Answer:
    """GET ``url`` with the same deadline, cap, TLS and no-redirect rules as :func:`get`, but any status is an
    :class:`Answer` (the readiness probe judges 403s and media types). Raises :class:`FetchError` when no complete
    answer came."""
    return _exchange(url, deadline_seconds, max_bytes, tls, user_agent, only_200=False)


def _exchange(url: str, deadline_seconds: float, max_bytes: int, tls: ssl.SSLContext | None, user_agent: str, *,
              only_200: bool) -> Answer:
    deadline = time.monotonic() + deadline_seconds
    parts = urlsplit(url)
    try:
        host, https = parts.hostname or "", parts.scheme == "https"
        port = parts.port or (443 if https else 80)
        sock = _connect(host, port, deadline)
    except (OSError, ValueError) as exc:  # ValueError: a port that is not a number
        raise FetchError(_reason(exc) if isinstance(exc, OSError) else "bad URL") from None
    try:
        if https:
            sock.settimeout(_remaining(deadline))  # bounds the whole handshake (Python >= 3.5 semantics)
            sock = (tls or default_tls()).wrap_socket(sock, server_hostname=host)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        authority = (f"[{host}]" if ":" in host else host) + (f":{parts.port}" if parts.port else "")
        request = (f"GET {target} HTTP/1.1\r\nHost: {authority}\r\nAccept: application/json\r\n"
                   f"User-Agent: {user_agent}\r\nConnection: close\r\n\r\n").encode("ascii")
        sock.settimeout(_remaining(deadline))
        sock.sendall(request)  # bounded as a whole by the timeout (Python >= 3.5 semantics)
        # HTTPResponse reads through sock.makefile(): the reader has one and bounds each read by the deadline.
        response = http.client.HTTPResponse(cast(socket.socket, _DeadlineReader(sock, deadline)))
        try:
            response.begin()
            if only_200 and response.status != 200:
                raise FetchError(f"HTTP {response.status}")
            if response.length is not None and response.length > max_bytes:
                raise FetchError(f"body over {max_bytes} bytes")
            body = response.read(max_bytes + 1)
            media_type = (response.getheader("Content-Type") or "").split(";", 1)[0].strip().lower()
            status = response.status
        finally:
            response.close()
        if len(body) > max_bytes:
            raise FetchError(f"body over {max_bytes} bytes")
        return Answer(status, media_type, body)
    except FetchError:
        raise
    except (OSError, http.client.HTTPException, UnicodeError) as exc:
        raise FetchError(_reason(exc)) from None
    finally:
        sock.close()


#: OpenSSL's X509_V_ERR_CERT_HAS_EXPIRED: the one verification failure told apart (the probe's TLS expiry check).
_CERT_HAS_EXPIRED: Final = 10


def peer_certificate(host: str, port: int, *, deadline_seconds: float,
                     tls: ssl.SSLContext | None = None) -> dict[str, Any]:
    """The verified certificate ``host:port`` presents (``ssl.SSLSocket.getpeercert()``), the TCP connect and the
    TLS handshake within ``deadline_seconds``. Raises :class:`FetchError` (``TLS certificate expired`` when that is
    why verification failed)."""
    deadline = time.monotonic() + deadline_seconds
    try:
        sock = _connect(host, port, deadline)
    except OSError as exc:
        raise FetchError(_reason(exc)) from None
    try:
        sock.settimeout(_remaining(deadline))
        with (tls or default_tls()).wrap_socket(sock, server_hostname=host) as wrapped:
            cert = wrapped.getpeercert()
        if not cert:
            raise FetchError("no certificate presented")
        return cert
    except ssl.SSLCertVerificationError as exc:
        if exc.verify_code == _CERT_HAS_EXPIRED:
            raise FetchError("TLS certificate expired") from None
        raise FetchError(_reason(exc)) from None
    except OSError as exc:
        raise FetchError(_reason(exc)) from None
    finally:
        sock.close()
