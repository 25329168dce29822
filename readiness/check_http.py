"""HTTP for ``plaid-ready check``: TLS always verified, every call bounded, no redirect followed.

The check talks to what Plaid talks to, the way Plaid's servers would: ``https://`` only, certificate
verification on (``--cacert`` adds a private CA to the system's, it never turns verification off), no
redirects followed (an endpoint must answer itself), each request limited by a timeout and each body by
size. Errors are :class:`NetworkError` with a message that is safe to print (no URL credentials, no body).
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

#: Bodies larger than this are cut off (a discovery document or JWKS is a few KiB).
MAX_BODY_BYTES: Final = 1 << 20
USER_AGENT: Final = "plaid-ready-check"


class NetworkError(Exception):
    """No HTTP answer: DNS, connection, TLS or timeout. ``str()`` is safe to print."""


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]  # lower-case names
    body: bytes

    @property
    def media_type(self) -> str:
        """The Content-Type without parameters, lower case ("" when absent)."""
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    def json(self) -> Any:
        """The body as JSON. Raises ValueError when it is not JSON."""
        return json.loads(self.body.decode("utf-8"))

    def json_object(self) -> dict[str, Any] | None:
        """The body as a JSON object, or None when it is not one."""
        try:
            value = self.json()
        except (ValueError, UnicodeDecodeError):
            return None
        return value if isinstance(value, dict) else None


def tls_context(cacert: Path | None = None) -> ssl.SSLContext:
    """The system's trust store (plus ``cacert``, a PEM CA bundle), TLS 1.2 or later, verification on."""
    ctx = ssl.create_default_context()
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if cacert is not None:
        ctx.load_verify_locations(cafile=str(cacert))
    return ctx


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:  # noqa: ANN401 - urllib's signature
        return None  # a 3xx comes back as the response itself


def _read(resp: Any, deadline: float) -> bytes:  # noqa: ANN401 - http.client.HTTPResponse or HTTPError
    chunks, size = [], 0
    while size <= MAX_BODY_BYTES:
        if time.monotonic() > deadline:
            raise NetworkError("the body did not arrive in time")
        chunk = resp.read1(65536) if hasattr(resp, "read1") else resp.read(65536)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)[:MAX_BODY_BYTES]


def _describe(exc: BaseException, timeout: float) -> str:
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, ssl.SSLCertVerificationError):
        return (f"TLS certificate not trusted ({reason.verify_message or 'verification failed'}); "
                "for a private CA pass --cacert FILE")
    if isinstance(reason, ssl.SSLError):
        return f"TLS handshake failed ({reason.reason or type(reason).__name__})"
    if isinstance(reason, TimeoutError | socket.timeout):
        return f"no answer within {timeout:g} s"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, socket.gaierror):
        return "the host name does not resolve"
    if isinstance(reason, http.client.HTTPException | ConnectionError):
        return "the connection closed without an HTTP answer"
    if isinstance(reason, OSError):
        return f"network error: {reason.strerror or type(reason).__name__}"
    return f"network error: {type(reason).__name__}"


def request(method: str, url: str, *, context: ssl.SSLContext, timeout: float,
            headers: Mapping[str, str] | None = None, form: Mapping[str, str] | None = None) -> Response:
    """One HTTPS request. Any HTTP status is a :class:`Response`; no answer raises :class:`NetworkError`."""
    if urllib.parse.urlsplit(url).scheme != "https":
        raise NetworkError("not sent: the URL is not https://")
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    all_headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})}
    if data is not None:
        all_headers["Content-Type"] = "application/x-www-form-urlencoded"
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), _NoRedirect)
    req = urllib.request.Request(url, data=data, headers=all_headers, method=method)  # noqa: S310 - https only
    deadline = time.monotonic() + timeout
    try:
        with opener.open(req, timeout=timeout) as resp:
            return Response(resp.status, {k.lower(): v for k, v in resp.headers.items()}, _read(resp, deadline))
    except urllib.error.HTTPError as err:
        with err:
            return Response(err.code, {k.lower(): v for k, v in (err.headers or {}).items()}, _read(err, deadline))
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise NetworkError(_describe(exc, timeout)) from None
