"""``plaid-ready check``'s output: the verdict, ``--json`` and the text report.

Details carry what servers said (issuers, auth methods, key ids, error descriptions). In text mode every
character a terminal could act on is escaped (``\\x1b``, ``\\u202e``): C0 and C1 controls (ESC starts the
sequences that clear the screen or recolour text), line and paragraph separators, surrogates, and format
characters (the bidi overrides U+202A-U+202E and U+2066-U+2069 among them). ``--json`` is escaped by
``json.dumps`` (ASCII only).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any, Final

from readiness.check.model import CheckResult, CheckStatus, Stage
from readiness.check.options import Options

READY: Final = "ready"
READY_AS_FAR_AS_CHECKED: Final = "ready as far as checked"
NOT_READY: Final = "not ready"

#: What a live check cannot see, said with every verdict that is not "not ready" (docs/check.md).
NOT_SEEN: Final[tuple[str, ...]] = (
    "refresh-token lifetimes (13 months; `plaid-ready plan` checks what is declared)",
    "the WAF as Plaid's addresses meet it",
    "Plaid's own redirect URI",
    "whether the IdP would refuse Plaid's request, which has no nonce",
)

_UNSAFE_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def terminal_safe(text: str) -> str:
    """``text`` with every control, separator, surrogate and format character escaped (``\\x1b``,
    ``\\u202e``): it prints as one line and cannot move the cursor, recolour, clear or reorder the terminal."""
    if text.isascii() and text.isprintable():
        return text
    return "".join(_escape(c) if unicodedata.category(c) in _UNSAFE_CATEGORIES else c for c in text)


def counts(results: Sequence[CheckResult]) -> dict[str, int]:
    return {s.value: sum(1 for r in results if r.status is s) for s in CheckStatus}


def complete(results: Sequence[CheckResult]) -> bool:
    """False when a check was skipped because an input was not given (the run is partial)."""
    return not any(r.status is CheckStatus.SKIP and r.for_lack_of_input for r in results)


def verdict(results: Sequence[CheckResult]) -> str:
    if any(r.status is CheckStatus.FAIL for r in results):
        return NOT_READY
    return READY if complete(results) else READY_AS_FAR_AS_CHECKED


def to_json(results: Sequence[CheckResult]) -> dict[str, Any]:
    return {"checks": [{"id": r.id, "status": r.status.value, "detail": r.detail} for r in results],
            "counts": counts(results), "complete": complete(results), "verdict": verdict(results),
            "not_seen": list(NOT_SEEN)}


def verdict_line(results: Sequence[CheckResult]) -> str:
    failed = [r.id for r in results if r.status is CheckStatus.FAIL]
    if failed:
        return "Verdict: NOT READY for Plaid: " + ", ".join(failed) + " failed."
    warned = "; see the warnings" if any(r.status is CheckStatus.WARN for r in results) else ""
    if verdict(results) == READY_AS_FAR_AS_CHECKED:
        partial = sum(1 for r in results if r.status is CheckStatus.SKIP and r.for_lack_of_input)
        head = (f"Verdict: ready for Plaid as far as checked (nothing fails; {partial} checks not run for lack of "
                f"inputs, see their reasons{warned}).")
    else:
        head = "Verdict: ready for Plaid (" + ("nothing fails; see the warnings)." if warned else
                                             "every check passes).")
    return f"{head} Not seen by a live check: {', '.join(NOT_SEEN)}."


def to_text(results: Sequence[CheckResult], opts: Options) -> str:
    safe = terminal_safe
    lines = [f"Plaid live check of {safe(opts.discovery_url)}",
             "(what Plaid's Validator checks; tokens, the authorization code and the client secret are never shown)",
             f"  client: {safe(opts.client_id or '(none)')}"
             + (f" (secret from the {opts.secret_source})" if opts.secret_source else ""),
             f"  customers API: {safe(opts.customers_url or '(none)')}"]
    label = {s: s.value.upper() for s in CheckStatus}
    for stage in Stage:
        lines += ["", stage.value]
        for r in results:
            if r.spec.stage is stage:
                lines.append(f"  {label[r.status]:<6} {r.id:<22} {r.spec.requirement}")
                lines.append(f"  {'':<6} {'':<22} seen: {safe(r.detail)}")
    n = counts(results)
    lines += ["", f"Plaid live check ({len(results)} checks: {n['pass']} pass, {n['warn']} warn, {n['fail']} fail, "
                  f"{n['skip']} skip)", verdict_line(results)]
    return "\n".join(lines)
