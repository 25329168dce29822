"""Stage 4, **API**: ``GET /customers/current`` with the login's access token, without a token and with a tampered
one, as Plaid calls it (docs/check.md)."""

from __future__ import annotations

from typing import Any, Final

import plaid_contract as plaid
from readiness.check import schema
from readiness.check.http import NetworkError, Response
from readiness.check.model import CheckStatus, Outcome, Stage, failed, passed, skipped, warned
from readiness.check.registry import StageChecks
from readiness.check.run import Run
from readiness.check.tokens import shown, tampered

_DENIED: Final = plaid.CUSTOMER_NOT_AUTHORIZED
#: A 403 without FDX code 602 at the API: the WAF (it lets only Plaid's addresses through) answered, not the API.
WAF_BLOCKED: Final = ("HTTP 403, blocked before the API (the WAF lets only Plaid's addresses through); run the check "
                      "from an address in allowlist.extraCidrs to judge the API's own answer")


def _gate(run: Run) -> Outcome | None:
    return skipped("no --customers-url", for_lack_of_input=True) if run.opts.customers_url is None else None


STAGE = StageChecks(Stage.API, gate=_gate)


def _access_token(run: Run) -> Outcome | None:
    if run.access_token is not None:
        return None
    return skipped("no access token (the login did not run or failed; see TOKEN-CLIENT-AUTH)",
                   for_lack_of_input=not run.login_requested)


def _url(run: Run) -> str:
    assert run.opts.customers_url is not None
    return run.opts.customers_url


def _fdx_code(resp: Response) -> Any:  # noqa: ANN401 - whatever the body says
    body = resp.json_object()
    code = None if body is None else body.get("code")
    return code if code is None or isinstance(code, int | str) and not isinstance(code, bool) else shown(code)


@STAGE.check("API-CUSTOMERS-CURRENT",
             f"GET {plaid.CUSTOMERS_CURRENT_PATH}: 200, Plaid's Customer schema, customerId = id_token sub",
             needs=[_access_token])
def customers_current(run: Run) -> Outcome:
    try:
        resp = run.get(_url(run), {"Authorization": f"Bearer {run.access_token}"})
    except NetworkError as exc:
        return failed(str(exc))
    if resp.status == 403:
        return warned(f"with the access token: {WAF_BLOCKED}")
    if resp.status != 200:
        return failed(f"HTTP {resp.status} with the access token; expected 200")
    try:
        body = resp.json()
    except ValueError as exc:
        return failed(f"HTTP 200, {shown(resp.media_type or 'no Content-Type', 60)}: {exc}")
    problems = schema.problems(body)
    if resp.media_type != "application/json":
        problems.append(f"Content-Type is {shown(resp.media_type or 'absent', 60)}, not application/json")
    if problems:
        return failed("HTTP 200 but not Plaid's Customer schema: " + "; ".join(problems))
    customer_id = body["customerId"]
    seen = f"HTTP 200, Plaid's Customer schema; customerId has {len(customer_id)} characters"
    if run.id_sub is None:
        status = CheckStatus.PASS if not run.oidc else CheckStatus.WARN
        return Outcome(status, f"{seen}; no verified id_token sub to compare with")
    if customer_id == run.id_sub:
        return passed(f"{seen}, equal to the id_token sub")
    return failed(f"{seen}, but not equal to the id_token sub: Plaid would see two different users")


def _rejects(run: Run, token: str | None) -> Outcome:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else None
    what = "a tampered token (payload changed, signature kept)" if token is not None else "no token"
    try:
        resp = run.get(_url(run), headers)
    except NetworkError as exc:
        return failed(str(exc))
    code = _fdx_code(resp)
    if resp.status == 403 and str(code) != str(_DENIED.code):
        return warned(f"{what}: {WAF_BLOCKED}")
    seen = f"{what}: HTTP {resp.status}" + (f", code {shown(code, 20)}" if code is not None else ", no FDX code")
    if resp.status == _DENIED.status and str(code) == str(_DENIED.code):
        return passed(seen)
    return failed(f"{seen}; expected {_DENIED.status} with code {_DENIED.code}")


@STAGE.check("API-REJECTS-NO-TOKEN", f"no token: {_DENIED.status} with FDX code {_DENIED.code}")
def rejects_no_token(run: Run) -> Outcome:
    return _rejects(run, None)


@STAGE.check("API-REJECTS-BAD-TOKEN", f"a tampered token: {_DENIED.status} with FDX code {_DENIED.code}",
             needs=[_access_token])
def rejects_bad_token(run: Run) -> Outcome:
    assert run.access_token is not None
    bad = tampered(run.access_token)
    run.sensitive.add(bad)
    return _rejects(run, bad)
