"""``plaid-ready check``: Plaid's Validator, run by the bank before Plaid runs it (docs/check.md).

The offline plan proves what a stack declares; this checks what is live, the way Plaid judges it, in four
stages run in order: **Discovery**, **Keys**, **Login and tokens** (an authorization-code login through a
loopback redirect, as Plaid's client) and **API** (``GET /customers/current``). A stage that lacks its
inputs is skipped with the reason, not failed. Every check has a stable id and ends ``pass``, ``fail``, ``warn``
or ``skip`` with what was seen.

Exit 0 when no check fails, 1 when one does, 2 for a usage error (one line, no traceback). Tokens, the
authorization code and the client secret never appear in the output; the secret never goes on the command
line (``--client-secret-env NAME`` or ``--secret-arn ARN``). Bounded: each request completes within
``--timeout`` (one deadline for DNS, connection, TLS, headers and body), a run makes at most
``run.MAX_REQUESTS`` of them, and the login waits at most ``--login-timeout`` (docs/check.md states the
whole-run bound).

Modules: ``stages/`` (one module per stage: each check's id, requirement and code together, on the registry of
``registry``), ``run`` (what one run shares: options, findings, the HTTP budget, redaction), ``command`` (the
command), ``options`` and ``client_secret`` (the command line, the secret), ``http`` (HTTPS with one deadline per
request), ``loopback`` (the redirect listener, ``--login-command``), ``tokens`` (JWTs and keys), ``output``
(verdict, text, JSON), ``schema`` (Plaid's ``Customer`` schema), ``model`` (ids, stages, outcomes, results).
"""
