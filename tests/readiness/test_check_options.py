"""`plaid-ready check`'s command line: every usage error is one line, exit 2, and never holds a value given
(moved from test_check.py, which runs the check against real providers)."""

from __future__ import annotations

import socket

import pytest

from readiness.cli import main as cli_main
from tests.harness import ROOT
from tests.readiness.conftest import (
    CLIENT_ID,
    CLIENT_SECRET,
)

SECRET_ENV = "PLAID_CHECK_TEST_SECRET"


@pytest.fixture(autouse=True)
def secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, CLIENT_SECRET)


# --- usage errors -----------------------------------------------------------------------------------

DOC = "https://127.0.0.1:1/.well-known/openid-configuration"  # never contacted: usage errors come first


@pytest.mark.parametrize(("args", "message"), [
    ([], "give --discovery-url URL or --stack NAME"),
    (["--discovery-url", "http://127.0.0.1/.well-known/openid-configuration"],
     "--discovery-url must be an https:// URL (Plaid calls it over TLS)"),
    (["--discovery-url", "not a url"], "--discovery-url must be an https:// URL (Plaid calls it over TLS)"),
    (["--discovery-url", "https://idp.example"],
     "--discovery-url must be the discovery document's URL (ending in /.well-known/openid-configuration), "
     "not the issuer"),
    (["--discovery-url", "https://u:p@idp.example/.well-known/openid-configuration"],
     "--discovery-url must not carry credentials"),
    (["--discovery-url", DOC, "--client-secret-env", SECRET_ENV],
     "the login needs --client-id (Plaid's client id at the IdP)"),
    (["--discovery-url", DOC, "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET],
     "there is no --client-secret: a secret never goes on the command line (shell history, process lists); "
     "use --client-secret-env NAME or --secret-arn ARN"),
    (["--discovery-url", DOC, f"--client-secret={CLIENT_SECRET}"],
     "there is no --client-secret: a secret never goes on the command line (shell history, process lists); "
     "use --client-secret-env NAME or --secret-arn ARN"),
    (["--discovery-url", DOC, "--password", CLIENT_SECRET], "unrecognized arguments (see --help)"),
    (["--discovery-url", DOC, "--client-id", CLIENT_ID, "--client-secret-env", CLIENT_SECRET],
     "--client-secret-env takes the NAME of an environment variable (letters, digits, _), not the secret itself"),
    (["--discovery-url", DOC, "--client-id", CLIENT_ID, "--client-secret-env", "PLAID_CHECK_UNSET_VARIABLE"],
     "--client-secret-env: that environment variable is not set or is empty"),
    (["--discovery-url", DOC, "--client-id", CLIENT_ID, "--client-secret-env", SECRET_ENV, "--secret-arn", "x"],
     "give --client-secret-env or --secret-arn, not both"),
    (["--discovery-url", DOC, "--client-id", CLIENT_ID, "--secret-arn", "my-secret"],
     "--secret-arn must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)"),
    (["--discovery-url", DOC, "--redirect-port", "99999"], "--redirect-port must be a whole number from 1 to 65535"),
    (["--discovery-url", DOC, "--redirect-host", "evil.example"], "--redirect-host must be 127.0.0.1 or localhost"),
    (["--discovery-url", DOC, "--login-timeout", "0"], "--login-timeout must be a whole number from 1 to 3600"),
    (["--discovery-url", DOC, "--timeout", "ten"], "--timeout must be a whole number from 1 to 120"),
    (["--discovery-url", DOC, "--customers-url", "http://127.0.0.1:8080/customers/current"],
     "--customers-url must be an https:// URL (Plaid calls it over TLS)"),
    (["--discovery-url", DOC, "--cacert", "/nonexistent/ca.pem"], "--cacert: no such file"),
    (["--discovery-url", DOC, "--stack", "dev"], "give --discovery-url or --stack, not both"),
    (["--stack", "../../etc"], "--stack: a stack name has letters, digits, '.', '_' and '-' only"),
    (["--discovery-url", DOC, "--client-id", "has space"],
     "--client-id must be 1-256 printable characters without spaces"),
    (["--discovery-url", DOC + "\x1b[2J"], "--discovery-url must not contain spaces or control characters"),
    (["--discovery-url", DOC, "--login-command", "true"],
     "--login-command drives the login: give the client secret too (--client-secret-env NAME or --secret-arn ARN)"),
    (["--discovery-url", DOC, "--client-id", CLIENT_ID, "--client-secret-env", SECRET_ENV, "--login-command", ""],
     "--login-command: empty command"),
    (["--discovery-url", DOC, "--client-id", CLIENT_ID, "--client-secret-env", SECRET_ENV,
      "--login-command", "login 'unbalanced"], "--login-command: unbalanced quotes or a trailing backslash"),
    (["--discovery-url", DOC, "--client-id", CLIENT_ID, "--client-secret-env", SECRET_ENV,
      "--login-command", "/nonexistent/plaid-login --user x"],
     "--login-command: its program is not found (give a path or a program on PATH)"),
])
def test_usage_errors_exit_2_with_one_line_and_no_value(capsys, args, message):
    code = cli_main(["check", *args])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert captured.err.splitlines() == [f"plaid-ready check: error: {message}"]
    assert CLIENT_SECRET not in captured.err


def test_missing_stack_outputs_file_says_how_to_write_it(capsys):
    code = cli_main(["check", "--stack", "no-such-stack"])
    err = capsys.readouterr().err
    path = ROOT / "stacks" / "no-such-stack.outputs.json"
    assert code == 2 and err.splitlines() == [
        f"plaid-ready check: error: stack outputs not found: {path} (write it with "
        f"`pulumi stack output --json -s no-such-stack > {path}`)"]


@pytest.mark.parametrize(("content", "message"), [
    ("not json", "stack outputs are not readable JSON"),
    ("[1, 2]", "stack outputs must be a JSON object of output names to values"),
    ('{"client_id": "x"}', "the stack outputs have no discovery_url"),
    ('{"discovery_url": "[secret]"}', "the stack outputs have no discovery_url"),
])
def test_bad_stack_outputs_are_usage_errors(tmp_path, capsys, content, message):
    path = tmp_path / "outputs.json"
    path.write_text(content)
    assert cli_main(["check", "--stack", "dev", "--outputs", str(path)]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"plaid-ready check: error: {message}")


def test_cacert_that_is_not_a_certificate(tmp_path, capsys):
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate")
    assert cli_main(["check", "--discovery-url", DOC, "--cacert", str(bad)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "plaid-ready check: error: --cacert: not a readable PEM CA certificate"]


def test_busy_redirect_port_is_a_usage_error(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code = cli_main(["check", "--discovery-url", DOC, "--client-id", CLIENT_ID, "--client-secret-env",
                         SECRET_ENV, "--redirect-port", str(port)])
    (line,) = capsys.readouterr().err.splitlines()
    assert code == 2 and line.startswith(f"plaid-ready check: error: cannot listen on 127.0.0.1:{port} (")


def test_help_exits_0(capsys):
    assert cli_main(["check", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--client-secret-env NAME" in out and "--secret-arn ARN" in out
