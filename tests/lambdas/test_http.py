"""lambdas/http.py, the Lambdas' one HTTP client, against real sockets on 127.0.0.1: one total deadline (a dripping or
silent peer), the size cap, no redirect, verified TLS; and both Lambdas fetching through it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from lambdas import http
from lambdas.customers_current import verifier
from lambdas.scope_adapter import handler as adapter
from tests.lambdas.idp import jwks_server

DEADLINE = 0.5
#: What the machine may add to a deadline (a loaded CI runner); far less than any drip below would take.
MARGIN = 0.6


def test_a_200_answer_is_its_body(rsa):
    with jwks_server(rsa) as srv:
        body = http.get(srv.url, deadline_seconds=2, max_bytes=64 * 1024)
    assert body.startswith(b'{"keys": [') and srv.fetches == 1


@pytest.mark.parametrize("mode", ["drip", "drip_headers"])
def test_a_dripping_peer_is_cut_at_the_one_deadline(rsa, mode):
    """A byte every 0.05 s never trips a per-read timeout: only the total deadline ends the fetch."""
    with jwks_server(rsa) as srv:
        srv.mode, srv.drip_interval = mode, 0.05
        start = time.monotonic()
        with pytest.raises(http.FetchError, match="^timed out$"):
            http.get(srv.url, deadline_seconds=DEADLINE, max_bytes=1 << 20)
        elapsed = time.monotonic() - start
    assert DEADLINE <= elapsed < DEADLINE + MARGIN


@contextmanager
def silent_listener() -> Iterator[int]:
    """Accepts TCP connections and never sends a byte (a TLS handshake that never completes)."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.05)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                accepted.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=2)
        for conn in accepted:
            conn.close()
        server.close()


@pytest.mark.parametrize("scheme", ["https", "http"])
def test_a_peer_silent_after_the_tcp_handshake_is_cut_at_the_deadline(scheme):
    """https: the TLS handshake never completes; http: the status line never comes. Both end at the deadline."""
    with silent_listener() as port:
        start = time.monotonic()
        with pytest.raises(http.FetchError, match="^timed out$"):
            http.get(f"{scheme}://127.0.0.1:{port}/jwks", deadline_seconds=DEADLINE, max_bytes=1024)
        elapsed = time.monotonic() - start
    assert DEADLINE <= elapsed < DEADLINE + MARGIN


def test_no_redirect_is_followed(rsa):
    with jwks_server(rsa) as srv:
        srv.mode = "redirect"
        with pytest.raises(http.FetchError, match="^HTTP 302$"):
            http.get(srv.url, deadline_seconds=2, max_bytes=64 * 1024)
        assert srv.fetches == 1


def test_any_status_but_200_is_a_failure(rsa):
    with jwks_server(rsa) as srv:
        srv.mode = "down"
        with pytest.raises(http.FetchError, match="^HTTP 500$"):
            http.get(srv.url, deadline_seconds=2, max_bytes=64 * 1024)


def test_a_content_length_over_the_cap_is_refused(rsa):
    with jwks_server(rsa) as srv:
        with pytest.raises(http.FetchError, match="^body over 100 bytes$"):
            http.get(srv.url, deadline_seconds=2, max_bytes=100)


def test_a_body_without_length_is_cut_at_the_cap(rsa):
    """2 MiB with no Content-Length: refused after reading the cap plus one byte, well within the deadline."""
    with jwks_server(rsa) as srv:
        srv.mode = "huge"
        start = time.monotonic()
        with pytest.raises(http.FetchError, match="^body over 65536 bytes$"):
            http.get(srv.url, deadline_seconds=5, max_bytes=64 * 1024)
    assert time.monotonic() - start < 2.0


def test_tls_is_verified(rsa):
    with jwks_server(rsa, tls=True) as srv:
        with pytest.raises(http.FetchError, match=r"^TLS certificate not trusted \(SSLCertVerificationError\)$"):
            http.get(srv.url, deadline_seconds=2, max_bytes=64 * 1024)  # the system's CAs: self-signed fails
        assert http.get(srv.url, deadline_seconds=2, max_bytes=64 * 1024, tls=srv.client_tls).startswith(b"{")


def test_the_default_tls_context_verifies_certificates_and_host_names():
    ctx = http.default_tls()
    assert ctx.verify_mode.name == "CERT_REQUIRED" and ctx.check_hostname
    assert http.default_tls() is ctx  # built once per execution environment


def test_connection_refused_is_a_safe_reason():
    with pytest.raises(http.FetchError, match=r"^connection failed \(ConnectionRefusedError\)$"):
        http.get("http://127.0.0.1:9/jwks", deadline_seconds=2, max_bytes=1024)  # nothing listens on port 9


@pytest.mark.parametrize("fetch", ["jwks", "discovery"])
def test_both_lambdas_fetch_through_it(fetch, monkeypatch):
    """The customers Lambda's JWKS fetch and the scope adapter's discovery fetch use lambdas.http.get, with their
    own deadline and cap: there is no second HTTP client in lambdas/."""
    calls: list[tuple[str, float, int]] = []

    def spy(url: str, *, deadline_seconds: float, max_bytes: int, **kwargs: object) -> bytes:
        calls.append((url, deadline_seconds, max_bytes))
        raise http.FetchError("HTTP 503")

    monkeypatch.setattr(http, "get", spy)
    if fetch == "jwks":
        client = verifier.JwksClient("https://idp.example/jwks")
        with pytest.raises(verifier.PyJWKClientConnectionError, match="HTTP 503"):
            client.fetch_data()
        assert calls == [("https://idp.example/jwks", verifier.JWKS_DEADLINE_SECONDS, verifier.JWKS_MAX_BYTES)]
    else:
        with pytest.raises(adapter.UpstreamError, match="^HTTP 503$"):
            adapter.fetch_json("https://cognito.example/.well-known/openid-configuration")
        assert calls == [("https://cognito.example/.well-known/openid-configuration", adapter.FETCH_DEADLINE_SECONDS,
                          adapter.MAX_DISCOVERY_BYTES)]


# -- fetch: any status (the readiness probe), with the same deadline, cap and no redirect ---------------------


def test_fetch_returns_any_status_with_its_media_type_and_never_follows_a_redirect(rsa):
    with jwks_server(rsa) as srv:
        ok = http.fetch(srv.url, deadline_seconds=2, max_bytes=64 * 1024)
        srv.mode = "down"
        down = http.fetch(srv.url, deadline_seconds=2, max_bytes=64 * 1024)
        srv.mode = "redirect"
        moved = http.fetch(srv.url, deadline_seconds=2, max_bytes=64 * 1024)
        fetches = srv.fetches
    assert (ok.status, ok.media_type) == (200, "application/json") and ok.body.startswith(b'{"keys": [')
    assert (down.status, down.media_type, down.body) == (500, "", b"")
    assert moved.status == 302 and fetches == 3  # the Location was not followed


def test_fetch_keeps_the_cap_and_the_deadline(rsa):
    with jwks_server(rsa) as srv:
        srv.mode = "huge"
        with pytest.raises(http.FetchError, match="^body over 1024 bytes$"):
            http.fetch(srv.url, deadline_seconds=2, max_bytes=1024)
        srv.mode, srv.drip_interval = "drip", 0.05
        start = time.monotonic()
        with pytest.raises(http.FetchError, match="^timed out$"):
            http.fetch(srv.url, deadline_seconds=DEADLINE, max_bytes=1 << 20)
        assert time.monotonic() - start < DEADLINE + MARGIN


def test_peer_certificate_of_a_silent_peer_ends_at_the_deadline():
    with silent_listener() as port:
        start = time.monotonic()
        with pytest.raises(http.FetchError, match="^timed out$"):
            http.peer_certificate("127.0.0.1", port, deadline_seconds=DEADLINE)
        assert time.monotonic() - start < DEADLINE + MARGIN
