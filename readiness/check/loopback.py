"""The loopback redirect of ``plaid-ready check``'s login (``http://127.0.0.1:<port>/callback``) and
``--login-command``.

The check plays Plaid's part in the authorization-code flow, with a loopback redirect URI instead of
Plaid's (the test client must allow it). A browser (a person, or ``--login-command``) completes the IdP's
login; the IdP redirects it here. The listener:

- keeps the first answer whose ``state`` is this login's (code or error) and ends the wait at once;
- answers a callback with another ``state`` (any local process or web page can send one) and ignores it:
  the login keeps waiting for the real one;
- serves connections concurrently, each cut off after :data:`CONNECTION_SECONDS` (an idle or dripping
  connection holds neither the login nor the real callback), at most :data:`MAX_CONNECTIONS` at once;
- listens on 127.0.0.1 only, logs nothing (the URL holds the code), and closes within about a second.
"""

from __future__ import annotations

import collections
import hmac
import io
import os
import signal
import socket
import subprocess
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final, cast
from urllib.parse import parse_qs, urlsplit

CALLBACK_PATH: Final = "/callback"
LOOPBACK: Final = "127.0.0.1"
#: Host names the redirect URI may use: the loopback IP (RFC 8252), or localhost for IdPs that accept
#: http:// only for localhost (Amazon Cognito).
HOST_NAMES: Final = (LOOPBACK, "localhost")
#: A connection to the callback port is closed after this long, whatever it does (per-read timeouts alone
#: would let a client drip bytes forever).
CONNECTION_SECONDS: Final = 5.0
#: Connections served at once; more are closed unanswered.
MAX_CONNECTIONS: Final = 32
#: Environment variables ``--login-command`` gets: the URL to open, and where the IdP will redirect.
AUTHORIZE_URL_ENV: Final = "PLAID_READY_AUTHORIZE_URL"
REDIRECT_URI_ENV: Final = "PLAID_READY_REDIRECT_URI"
#: The login command is asked to stop (SIGTERM), then killed after this long.
COMMAND_STOP_SECONDS: Final = 2.0
#: How much of the login command's output is kept to find its last line.
COMMAND_TAIL_BYTES: Final = 4096

_PAGE: Final = ("<!doctype html><meta charset=utf-8><title>plaid-ready check</title>"
                "<p>{}</p><p>You can close this window and return to the terminal.</p>")


@dataclass(frozen=True)
class Callback:
    """What came back to the redirect URI with this login's state. ``code`` is a credential: never print it."""

    code: str | None
    error: str | None
    error_description: str | None = None


class CallbackListener:
    """Binds at construction (``OSError`` when the port is taken); :meth:`close` always."""

    def __init__(self, port: int, host_name: str = LOOPBACK) -> None:
        self._host_name = host_name  # in the redirect URI; the socket is always bound to 127.0.0.1
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._result: Callback | None = None
        self._state = ""
        self._ignored = 0
        self._open: set[socket.socket] = set()
        self._thread: threading.Thread | None = None
        listener = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "plaid-ready-check"
            timeout = CONNECTION_SECONDS  # each socket operation; the timer below bounds the whole connection

            def setup(self) -> None:
                self._cut = threading.Timer(CONNECTION_SECONDS, _shutdown, args=(self.request,))
                self._cut.daemon = True
                self._cut.start()
                super().setup()

            def finish(self) -> None:
                try:
                    super().finish()
                finally:
                    self._cut.cancel()

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                url = urlsplit(self.path)
                if url.path != CALLBACK_PATH:
                    self._answer(404, "Not the login callback.")
                    return
                params = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items() if v}
                self._answer(*listener.offer(params))

            def _answer(self, status: int, text: str) -> None:
                body = _PAGE.format(text).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Cache-Control", "no-store")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002, ANN401 - the URL holds the code
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            block_on_close = False  # close() must not wait for a connection; they are shut down instead

            def verify_request(self, request: Any, client_address: Any) -> bool:  # noqa: ANN401
                with listener._lock:
                    if len(listener._open) >= MAX_CONNECTIONS:
                        return False
                    listener._open.add(request)
                return True

            def shutdown_request(self, request: Any) -> None:  # noqa: ANN401
                with listener._lock:
                    listener._open.discard(request)
                super().shutdown_request(request)

            def handle_error(self, request: Any, client_address: Any) -> None:  # noqa: ANN401 - no traceback
                pass

        self._server = Server((LOOPBACK, port), Handler)

    @property
    def redirect_uri(self) -> str:
        return f"http://{self._host_name}:{self._server.server_address[1]}{CALLBACK_PATH}"

    @property
    def ignored(self) -> int:
        """How many callbacks came with another state (answered, then ignored)."""
        return self._ignored

    def offer(self, params: dict[str, str]) -> tuple[int, str]:
        """Judge one callback: keep it when its state is this login's and none was kept yet. Returns the
        HTTP status and the text of the page to answer with."""
        with self._lock:
            state = params.get("state", "")
            if not self._state or not hmac.compare_digest(state.encode(), self._state.encode()):
                self._ignored += 1
                return 400, "This answer does not belong to the login in progress (its state differs); it was ignored."
            if self._done.is_set():
                return 409, "A login answer was already received."
            self._result = Callback(code=params.get("code"), error=params.get("error"),
                                    error_description=params.get("error_description"))
            self._done.set()
        if self._result.code and not self._result.error:
            return 200, "Login received."
        return 400, "The login did not succeed."

    def start(self, state: str) -> None:
        self._state = state
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="plaid-ready-check-callback", daemon=True)
        self._thread.start()

    def wait(self, timeout: float) -> Callback | None:
        """The answer, or None when none came within ``timeout`` seconds."""
        return self._result if self._done.wait(timeout) else None

    def close(self) -> None:
        """Stop accepting, cut every open connection, release the port: bounded (about a second)."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=1)
        with self._lock:
            open_now = list(self._open)
        for conn in open_now:
            _shutdown(conn)
        self._server.server_close()


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


# --- --login-command ----------------------------------------------------------------------------------


class LoginCommandFailed(Exception):
    """The login command ended with a non-zero status. ``str()`` holds the status and its last output line
    (raw: the caller bounds and sanitises it)."""

    def __init__(self, status: int, last_line: str) -> None:
        how = f"was ended by signal {-status}" if status < 0 else f"exited with status {status}"
        super().__init__(f"the login command {how}" + (f": {last_line}" if last_line else " (no output)"))


class LoginCommand:
    """Runs ``argv`` with the authorize URL in :data:`AUTHORIZE_URL_ENV` (never on its command line, where
    ``ps`` would show it) and the redirect URI in :data:`REDIRECT_URI_ENV`, without the environment variables
    named in ``hidden`` (the client secret's). Its output is read, never shown: only its last line, when it
    fails. :meth:`stop` ends it (and what it started) within :data:`COMMAND_STOP_SECONDS`."""

    def __init__(self, argv: list[str], redirect_uri: str, hidden: frozenset[str] = frozenset()) -> None:
        self._argv = argv
        self._redirect_uri = redirect_uri
        self._hidden = hidden
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._stopped = False

    def __call__(self, authorize_url: str) -> None:
        env = {k: v for k, v in os.environ.items() if k not in self._hidden}
        env[AUTHORIZE_URL_ENV] = authorize_url
        env[REDIRECT_URI_ENV] = self._redirect_uri
        with self._lock:
            if self._stopped:
                return
            self._proc = subprocess.Popen(self._argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,  # noqa: S603
                                          stderr=subprocess.STDOUT, env=env, start_new_session=True)
        proc = self._proc
        tail: collections.deque[bytes] = collections.deque()
        size = [0]

        output = cast(io.BufferedReader, proc.stdout)  # stdout=PIPE, unbuffered=False: a BufferedReader

        def read() -> None:
            for chunk in iter(lambda: output.read1(4096), b""):
                tail.append(chunk)
                size[0] += len(chunk)
                while size[0] - len(tail[0]) >= COMMAND_TAIL_BYTES:
                    size[0] -= len(tail.popleft())

        reader = threading.Thread(target=read, name="plaid-ready-check-login-output", daemon=True)
        reader.start()
        status = proc.wait()
        reader.join(timeout=0.5)  # a child that keeps the pipe open must not hold the login
        if status != 0 and not self._stopped:
            lines = [x for x in b"".join(tail).decode("utf-8", "replace").splitlines() if x.strip()]
            raise LoginCommandFailed(status, lines[-1].strip() if lines else "")

    def stop(self) -> None:
        """End the command and its process group: SIGTERM, then SIGKILL after COMMAND_STOP_SECONDS."""
        with self._lock:
            self._stopped = True
            proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, COMMAND_STOP_SECONDS), (signal.SIGKILL, COMMAND_STOP_SECONDS)):
            try:
                os.killpg(proc.pid, sig)
            except (ProcessLookupError, PermissionError):
                return
            try:
                proc.wait(timeout=wait)
                return
            except subprocess.TimeoutExpired:
                continue
