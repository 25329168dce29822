"""The loopback redirect of ``plaid-ready check``'s login: ``http://127.0.0.1:<port>/callback``.

The check plays Plaid's part in the authorization-code flow, with a loopback redirect URI instead of
Plaid's (the test client must allow it). A browser completes the IdP's login; the IdP redirects it here;
the listener keeps the first answer (code or error, and whether ``state`` came back unchanged) and shows a
short page. It listens on 127.0.0.1 only, logs nothing (the URL holds the code), and is always closed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

CALLBACK_PATH: Final = "/callback"
LOOPBACK: Final = "127.0.0.1"
#: Host names the redirect URI may use: the loopback IP (RFC 8252), or localhost for IdPs that accept
#: http:// only for localhost (Amazon Cognito).
HOST_NAMES: Final = (LOOPBACK, "localhost")

_PAGE: Final = ("<!doctype html><meta charset=utf-8><title>plaid-ready check</title>"
                "<p>{}</p><p>You can close this window and return to the terminal.</p>")


@dataclass(frozen=True)
class Callback:
    """What came back to the redirect URI. ``code`` is a credential: never print it."""

    code: str | None
    error: str | None
    state_ok: bool


class CallbackListener:
    """Binds at construction (``OSError`` when the port is taken); :meth:`close` always."""

    def __init__(self, port: int, host_name: str = LOOPBACK) -> None:
        self._host_name = host_name  # in the redirect URI; the socket is always bound to 127.0.0.1
        self._done = threading.Event()
        self._result: Callback | None = None
        self._state = ""
        self._thread: threading.Thread | None = None
        listener = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "plaid-ready-check"

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                url = urlsplit(self.path)
                if url.path != CALLBACK_PATH:
                    self._answer(404, "Not the login callback.")
                    return
                query = parse_qs(url.query)
                first = {k: v[0] for k, v in query.items() if v}
                if listener.record(first):
                    ok = "code" in first and first.get("state") == listener._state
                    self._answer(200 if ok else 400, "Login received." if ok else "The login did not succeed.")
                else:
                    self._answer(409, "A login answer was already received.")

            def _answer(self, status: int, text: str) -> None:
                body = _PAGE.format(text).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Cache-Control", "no-store")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002, ANN401 - the URL holds the code
                pass

        self._server = HTTPServer((LOOPBACK, port), Handler)
        self._server.timeout = 0.5

    @property
    def redirect_uri(self) -> str:
        return f"http://{self._host_name}:{self._server.server_address[1]}{CALLBACK_PATH}"

    def record(self, params: dict[str, str]) -> bool:
        """Keep the first answer; False when one was already kept."""
        if self._done.is_set():
            return False
        self._result = Callback(code=params.get("code"), error=params.get("error"),
                                state_ok=params.get("state") == self._state)
        self._done.set()
        return True

    def start(self, state: str) -> None:
        self._state = state
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="plaid-ready-check-callback", daemon=True)
        self._thread.start()

    def wait(self, timeout: float) -> Callback | None:
        """The answer, or None when none came within ``timeout`` seconds."""
        return self._result if self._done.wait(timeout) else None

    def close(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()
