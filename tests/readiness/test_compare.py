"""plan --compare: the exact Plaid-impact line (and exit code) per change, one test per row of the Plaid-impact
table in docs/review.md; the other revision treated as untrusted code; new stacks; advisory rows.

Speed (issue 18): the committed tree of each base stack is planned ONCE (a module fixture saves
``plan --json`` of auth0-example and auth0-prod), and each case compares a changed copy of the tree
against that saved plan (``--compare FILE``): one plan per case, two cases at a time. Only the cases
that are about the git-revision path (materialising a revision, its environment, its own package
cache, a stack it does not have) plan a base revision themselves. The scratch trees share this
checkout's ``.build`` (a symlink: the head side is our own tree), so no case builds a package.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

import plaid_contract as plaid
from readiness import compare
from readiness.compare import Comparison, planning, render_text
from readiness.compare.model import read_plan
from readiness.exit_codes import ExitCode
from tests.harness import ROOT

STACK, PROD = "auth0-example", "auth0-prod"
GIT_ENV = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.invalid", "GIT_AUTHOR_DATE": "2025-01-01T00:00:00Z",
           "GIT_COMMITTER_DATE": "2025-01-01T00:00:00Z"}
EXTRA_REDIRECT = "https://links.firstplatypus.example/plaid/callback"


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True,
                          env=GIT_ENV).stdout


def _tree(factory: pytest.TempPathFactory, name: str) -> Path:
    """This project's committed tree in a scratch directory, .build shared with this checkout."""
    repo = factory.mktemp(name)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", "HEAD"], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(repo)], input=archive, check=True)
    (ROOT / ".build").mkdir(exist_ok=True)
    (repo / ".build").symlink_to(ROOT / ".build", target_is_directory=True)
    return repo


def _repo(factory: pytest.TempPathFactory, name: str) -> Path:
    """A scratch tree committed to its own git repository (for the git-revision cases)."""
    repo = _tree(factory, name)
    _git(repo, "init", "-q", "-b", "main")
    (repo / ".git" / "info" / "exclude").write_text(".build\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    return repo


def _edit(repo: Path, path: Path | str, old: str, new: str) -> None:
    file = repo / path
    text = file.read_text()
    assert old in text, f"{path}: the scratch edit no longer applies (expected {old!r})"
    file.write_text(text.replace(old, new, 1))


def _set(repo: Path, key: str, value: object, stack: str = STACK) -> None:
    """Set ``plaid-ready-idp:<key>`` (a dotted path inside it) in the scratch stack file."""
    file = repo / "stacks" / f"Pulumi.{stack}.yaml"
    doc = yaml.safe_load(file.read_text())
    first, *rest = key.split(".")
    node = doc["config"]
    path = [f"plaid-ready-idp:{first}", *rest]
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value
    file.write_text(yaml.safe_dump(doc, sort_keys=False))


def _impact(text: str) -> list[str]:
    return _section(text, "Plaid impact")


def _section(text: str, title: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith(title))
    out = []
    for ln in lines[start + 1:]:
        if not ln.strip():
            break
        out.append(ln.strip())
    return out


# --- the saved base plans and the cases (each compared once, two at a time) ------------------------


@pytest.fixture(scope="module")
def base_plans(tmp_path_factory) -> dict[str, Path]:
    """``plan --json`` of the committed tree, per base stack: each base is planned once for the module."""
    tree = _tree(tmp_path_factory, "base-tree")
    out = tmp_path_factory.mktemp("saved")
    env = {**os.environ, "PYTHONPATH": str(tree)}
    procs = {s: subprocess.Popen([sys.executable, "-m", "readiness.cli", "plan", "--stack", s, "--json"], cwd=tree,
                                 env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for s in (STACK, PROD)}
    saved = {}
    for s, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=600)
        assert proc.returncode == 0, stderr
        saved[s] = out / f"{s}.json"
        saved[s].write_text(stdout)
    return saved


def _prod_mtls_version(repo: Path) -> None:
    _set(repo, "api.customDomain.mtls.truststoreVersion", "4FN5lrtKmcqYspEUEnK.snTqYe4eJcsIZ", PROD)


def _prod_domain(repo: Path) -> None:
    _set(repo, "api.customDomain.domainName", "api.firstplatypus.example", PROD)


def _signing_alg(repo: Path) -> None:
    _edit(repo, "components/idps/auth0/component.py", 'signing_alg="RS256"', 'signing_alg="PS256"')


def _range(repo: Path) -> None:
    # Drop Plaid's current IPv4 range from what the allowlist declares (components/waf.py, not plaid_contract,
    # so the Lambda package, which ships plaid_contract, is unchanged and not rebuilt).
    _edit(repo, "components/waf.py", "[*plaid.PLAID_IPV4_RANGES, *plaid.PLAID_LEGACY_IPV4", "[*plaid.PLAID_LEGACY_IPV4")


def _alarm_subscriber_removed(repo: Path) -> None:
    doc = yaml.safe_load((repo / "stacks" / f"Pulumi.{PROD}.yaml").read_text())
    del doc["config"]["plaid-ready-idp:alarms"]
    (repo / "stacks" / f"Pulumi.{PROD}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))


#: name -> (stack, change to the scratch tree). Compared with the saved plan of the committed tree.
CASES: dict[str, tuple[str, Callable[[Path], None]]] = {
    "base_path": (STACK, lambda r: _set(r, "api.basePath", "/fdx/v7")),
    "stage": (STACK, lambda r: _set(r, "api.stageName", "v2")),
    "custom_domain": (PROD, _prod_domain),
    "issuer": (STACK, lambda r: _set(r, "auth0.domain", "first-platypus-new.us.auth0.com")),
    "audience": (STACK, lambda r: _set(r, "audience", "https://api.firstplatypus.example/fdx/v2")),
    "secret": (STACK, lambda r: _set(r, "clientSecret.version", 2)),
    "rename": (STACK, lambda r: _set(r, "institution.code", "fpbank")),
    "scopes": (STACK, lambda r: _set(r, "scopes", ["openid"])),
    "lifetime": (STACK, lambda r: _set(r, "auth0.accessTokenLifetimeMinutes", 60)),
    "prefix": (STACK, lambda r: _set(r, "consistencyKey.prefix", "fpb-")),
    "signing_alg": (STACK, _signing_alg),
    "range": (STACK, _range),
    "mtls": (PROD, _prod_mtls_version),
    "advisory": (PROD, _alarm_subscriber_removed),
    "comment": (STACK, lambda r: _edit(r, Path("stacks") / f"Pulumi.{STACK}.yaml", "config:\n",
                                       "# Reviewed by the platform team.\nconfig:\n")),
}


@pytest.fixture(scope="module")
def cases(tmp_path_factory, base_plans) -> dict[str, Comparison | BaseException]:
    trees = {}
    for name, (_stack, change) in CASES.items():
        trees[name] = _tree(tmp_path_factory, name)
        change(trees[name])

    def one(name: str) -> Comparison | BaseException:
        stack = CASES[name][0]
        try:
            comp = compare.comparison(trees[name], stack, str(base_plans[stack]))
        except BaseException as exc:  # noqa: BLE001 - reported by the test that reads this case
            return exc
        return dataclasses.replace(comp, base_label="HEAD")  # what `--compare HEAD` prints (the path is scratch)

    with ThreadPoolExecutor(max_workers=2) as pool:  # the plans are subprocesses: two cores, two at a time
        return dict(zip(CASES, pool.map(one, CASES), strict=True))


def case(cases: dict, name: str, fmt: str = "text") -> tuple[str, int]:
    comp = cases[name]
    if isinstance(comp, BaseException):
        raise comp
    return compare.RENDER[fmt](comp), comp.exit_code


# --- one test per row of docs/review.md's Plaid-impact table ----------------------------------------


def test_row_customers_url_base_path(cases):
    """api.basePath /fdx/v6 -> /fdx/v7 moves the URL Plaid calls (it used to say 0 breaking)."""
    text, code = case(cases, "base_path")
    assert _impact(text) == [
        "BREAKING The /customers/current path /fdx/v6/customers/current -> /fdx/v7/customers/current "
        "(api.basePath): Plaid keeps calling the URL it was given, so its calls fail (403 at the WAF, or 404); give "
        "Plaid the new URL before merging and keep the old path answering until Plaid switches.",
    ]
    assert code == ExitCode.PLAID_BREAKING


def test_row_customers_url_stage(cases):
    text, code = case(cases, "stage")
    assert _impact(text)[0] == (
        "BREAKING API stage live -> v2 (api.stageName): without a custom domain the stage is part of the execute-api "
        "URL Plaid calls, so its calls fail; give Plaid the new URL before merging.")
    assert code == ExitCode.PLAID_BREAKING


def test_row_customers_url_custom_domain(cases):
    text, code = case(cases, "custom_domain")
    assert "BREAKING /customers/current URL https://fdx.firstplatypus.example/fdx/v6/customers/current -> " \
           "https://api.firstplatypus.example/fdx/v6/customers/current: Plaid keeps calling the URL it was given; " \
           "give Plaid the new URL before merging and keep the old one answering until Plaid switches." in _impact(text)
    assert code == ExitCode.PLAID_BREAKING


def test_row_discovery_url_and_issuer(cases):
    text, code = case(cases, "issuer")
    impact = _impact(text)
    assert impact[0].startswith(
        "BREAKING Issuer https://first-platypus-dev.us.auth0.com/ -> https://first-platypus-new.us.auth0.com/ (with "
        "it the OIDC discovery URL, JWKS URI, authorization endpoint, token endpoint): Plaid's registration")
    assert code == ExitCode.PLAID_BREAKING


def test_row_audience(cases):
    text, code = case(cases, "audience")
    assert any(ln.startswith("BREAKING Access-token audience https://api.firstplatypus.example/fdx -> "
                             "https://api.firstplatypus.example/fdx/v2: the Lambda then accepts only the new aud")
               for ln in _impact(text)), text
    assert code == ExitCode.PLAID_BREAKING


def test_row_client_secret(cases):
    text, code = case(cases, "secret")
    assert _impact(text) == [
        "BREAKING Plaid's client secret is rotated (clientSecret.version 1 -> 2): the old secret stops working when "
        "this deploys; tell Plaid before merging and hand over the new value from Secrets Manager at the cut-over.",
    ]
    assert code == ExitCode.PLAID_BREAKING
    resources = _section(text, "Resource changes")
    assert resources[0] == ("+- REPLACE random:index/randomBytes:RandomBytes  fpb-plaid-credentials-value  "
                            "(replaced because keepers.version cannot change in place)")
    assert resources[1] == 'keepers.version: "1" -> "2"'


def test_row_client_secret_rotation():
    """Both phases, planned from the real program per phase (tests/readiness/test_compare_rotation.py)."""
    from tests.readiness import test_compare_rotation as rotation

    rotation.test_phase_1_is_a_notice_with_no_impact_on_plaid()
    rotation.test_phase_2_breaks_unless_plaid_already_uses_the_new_secret()


def test_row_client_id_renamed_stateful_resources_are_replacements(cases):
    out, code = case(cases, "rename", "json")
    doc = json.loads(out)
    assert code == ExitCode.PLAID_BREAKING
    assert [(x["severity"], x["message"]) for x in doc["plaidImpact"]] == [
        ("breaking", "Plaid's OAuth client fpb-plaid-client is replaced (renamed fpb-plaid-client -> "
                     "fpbank-plaid-client): a new client id and secret, so Plaid's registration breaks; give Plaid "
                     "the new client id and secret before merging."),
        ("breaking", "Auth0 API fpb-api is replaced (renamed fpb-api -> fpbank-api): refresh tokens granted for the "
                     "old API stop working, so every linked Plaid user must re-link; tell Plaid before merging."),
        ("breaking", "REST API fpb-customers-api is replaced (renamed fpb-customers-api -> fpbank-customers-api): "
                     "the execute-api URL changes, so Plaid's /customers/current URL breaks; give Plaid the new URL "
                     "before merging (or front it with a custom domain)."),
        ("breaking", "Plaid's client secret is rotated (renamed fpb-plaid-credentials-value -> "
                     "fpbank-plaid-credentials-value): the old secret stops working when this deploys; tell Plaid "
                     "before merging and hand over the new value from Secrets Manager at the cut-over."),
    ]
    changes = {(r["type"], r["oldName"]): r for r in doc["resourceChanges"]}
    client = changes[("auth0:index/client:Client", "fpb-plaid-client")]
    assert (client["action"], client["name"], client["stateful"]) == ("replace", "fpbank-plaid-client", True)
    assert {r["action"] for r in doc["resourceChanges"]} == {"replace"}
    assert doc["readinessChanges"] == []


def test_row_scopes(cases):
    text, code = case(cases, "scopes")
    assert "BREAKING Refresh tokens (offline access) true -> false (fpb-api): without refresh tokens every linked " \
           "user must re-link when the access token expires." in _impact(text)
    assert code == ExitCode.NOT_READY  # a rule newly fails (offline_access is required)


def test_row_token_lifetimes(cases):
    text, code = case(cases, "lifetime")
    assert _impact(text) == [
        "notice   Access-token lifetime 900 s -> 3600 s (fpb-api): Plaid asks for 15-minute access tokens; a "
        "longer-lived token stays usable longer after a user revokes access (see Readiness changes).",
    ]
    assert _section(text, "Readiness changes")[0].split()[:4] == ["AUTH0-AT-LIFETIME", "pass", "->", "FAIL"]
    assert code == ExitCode.NOT_READY
    assert "tokenLifetime: 900 -> 3600" in _section(text, "Resource changes")


def test_row_consistency_key(cases):
    text, code = case(cases, "prefix")
    assert _impact(text) == [
        "BREAKING Consistency-key prefix (none) -> fpb-: every customerId Plaid has stored changes, so Plaid sees "
        "every linked user as a new customer; keep the old prefix, or agree a migration with Plaid before merging.",
    ]
    assert code == ExitCode.PLAID_BREAKING
    assert _section(text, "Readiness changes") == ["none"]
    assert _section(text, "Resource changes") == [
        "~ update aws:lambda/function:Function  fpb-customers-fn",
        'environment.variables.CONSISTENCY_KEY_PREFIX: (absent) -> "fpb-"',
    ]


def test_row_signing_algorithm(cases):
    text, code = case(cases, "signing_alg")
    assert ("BREAKING Access-token signing algorithm RS256 -> PS256 (fpb-api): Plaid and the Lambda verify signatures "
            "with the algorithm they were set up for, so tokens signed otherwise are refused; tell Plaid before "
            "merging and make sure the Lambda accepts the new algorithm.") in _impact(text)
    assert code in (ExitCode.PLAID_BREAKING, ExitCode.NOT_READY)


def test_row_allowlist_ranges(cases):
    text, code = case(cases, "range")
    cidr = plaid.PLAID_IPV4_RANGES[0]
    assert _impact(text) == [
        f"BREAKING Plaid range {cidr} dropped from the WAF allowlist: Plaid's calls from it get 403; restore it "
        "(Plaid asks data providers never to remove its ranges).",
    ]
    assert _section(text, "Readiness changes")[0].split()[:4] == ["API-PLAID-IPS", "pass", "->", "FAIL"]
    assert code == ExitCode.NOT_READY  # a rule newly fails: that wins over the breaking change


def test_row_mtls(cases):
    text, code = case(cases, "mtls")
    assert _impact(text) == [
        "BREAKING mTLS truststore s3://fpb-plaid-truststore/plaid/truststore.pem version "
        "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY -> s3://fpb-plaid-truststore/plaid/truststore.pem version "
        "4FN5lrtKmcqYspEUEnK.snTqYe4eJcsIZ: Plaid's calls fail the TLS handshake unless the new truststore still "
        "holds the CA of Plaid's client certificate; check it, then acknowledge.",
    ]
    assert code == ExitCode.PLAID_BREAKING


def test_every_row_of_the_docs_table_has_its_test():
    """docs/review.md's Plaid-impact table names, per row, the test above that proves it."""
    text = (ROOT / "docs" / "review.md").read_text()
    table = text[text.index("| what Plaid registers or relies on |"):]
    table = table[:table.index("\n\n")]
    named = [ln.rsplit("`", 2)[-2] for ln in table.splitlines()[2:]]
    assert named and all(n in globals() and n.startswith("test_row_") for n in named), named
    assert sorted(set(named)) == sorted(n for n in globals() if n.startswith("test_row_"))
    assert "api.basePath" in table.splitlines()[2]  # the first row


# --- advisory rows, no-change, output formats --------------------------------------------------------


def test_advisory_rows_keep_their_label(cases):
    text, code = case(cases, "advisory")
    rows = [ln for ln in _section(text, "Readiness changes") if ln.startswith("API-ALARM-SUBSCRIBER")]
    assert rows and rows[0].split()[:5] == ["API-ALARM-SUBSCRIBER", "pass", "->", "FAIL", "(advisory)"]
    assert code == ExitCode.OK and "Verdict: nothing here breaks Plaid (exit 0)." in text
    md, _ = case(cases, "advisory", "markdown")
    assert "| `API-ALARM-SUBSCRIBER` | pass | **FAIL** (advisory) |" in md
    row = next(r for r in json.loads(case(cases, "advisory", "json")[0])["readinessChanges"]
               if r["id"] == "API-ALARM-SUBSCRIBER")
    assert (row["mandatory"], row["newlyFailing"]) == (False, False)


def test_comment_only_change_in_another_checkout_prints_no_changes(cases):
    for fmt in ("text", "markdown"):
        text, code = case(cases, "comment", fmt)
        assert code == ExitCode.OK and "no changes" in text and "Plaid impact" not in text
    assert json.loads(case(cases, "comment", "json")[0])["noChanges"] is True


def test_markdown_keeps_impact_and_readiness_visible_and_folds_resources(cases):
    md, code = case(cases, "prefix", "markdown")
    assert code == ExitCode.PLAID_BREAKING
    details = md.index("<details>")
    assert md.index("**Plaid impact**") < details and md.index("**Readiness changes**") < details
    assert "- **BREAKS PLAID**: Consistency-key prefix (none) -> fpb-:" in md
    assert md.index("CONSISTENCY_KEY_PREFIX") > details


def test_json_lists_the_same_impact(cases):
    doc = json.loads(case(cases, "prefix", "json")[0])
    assert doc["schemaVersion"] == 1 and doc["exitCode"] == ExitCode.PLAID_BREAKING and doc["newStack"] is False
    assert [(x["severity"], x["kind"]) for x in doc["plaidImpact"]] == [("breaking", "consistency-key")]
    assert doc["resourceChanges"] == [{
        "action": "update", "type": "aws:lambda/function:Function", "name": "fpb-customers-fn",
        "oldName": "fpb-customers-fn", "stateful": False, "replaceBecause": [],
        "changes": [{"path": "environment.variables.CONSISTENCY_KEY_PREFIX", "before": {"absent": True},
                     "after": "fpb-"}]}]


def test_docs_review_holds_the_markdown_example_verbatim(cases):
    """docs/review.md shows a real comment: this case's markdown, exactly as `--compare HEAD` prints it."""
    md, _ = case(cases, "prefix", "markdown")
    assert md in (ROOT / "docs" / "review.md").read_text()


def test_both_json_formats_read_the_same(base_plans):
    """The first `--json` format (marker strings, absolute archive paths) and issue 9's (typed objects,
    relative paths) read into one model: a base saved by either compares equal to the other."""
    saved = json.loads(base_plans[STACK].read_text())

    def as_strings(v):
        if v == {"secret": True}:
            return "[secret]"
        if v == {"unknown": True}:
            return "(known after apply)"
        if isinstance(v, dict) and set(v) == {"asset", "path"}:
            return f"{v['asset']}(/home/someone/clone/{v['path'].removeprefix('/')})"
        if isinstance(v, dict):
            return {k: as_strings(x) for k, x in v.items()}
        if isinstance(v, list):
            return [as_strings(x) for x in v]
        return v

    old = as_strings(saved)
    assert old != saved and "[secret]" in json.dumps(old) and '{"secret": true}' in json.dumps(saved)
    comp = compare.compare_plans(read_plan(old), read_plan(saved), STACK, "saved")
    assert comp.unchanged and comp.exit_code == 0, render_text(comp)


# --- the other revision is untrusted code: environment, package cache -----------------------------

#: Planted in the caller's environment; none may reach either plan process.
PLANTED = {
    "AWS_ACCESS_KEY_ID": "AKIAPLANTEDPLANTED01", "AWS_SECRET_ACCESS_KEY": "planted-aws-secret-0001",
    "AWS_SESSION_TOKEN": "planted-aws-session-0002", "AWS_PROFILE": "planted-profile-0003",
    "GITHUB_TOKEN": "planted-github-token-0004", "GH_TOKEN": "planted-gh-token-0005",
    "PULUMI_ACCESS_TOKEN": "planted-pulumi-token-0006", "PULUMI_CONFIG_PASSPHRASE": "planted-passphrase-0007",
    "AUTH0_CLIENT_SECRET": "planted-auth0-secret-0008", "AUTH0_CLIENT_ID": "planted-auth0-id-0009",
    "OKTA_API_TOKEN": "planted-okta-token-0010", "OKTA_API_PRIVATE_KEY": "planted-okta-key-0011",
    "MY_SERVICE_SECRET_VALUE": "planted-generic-secret-0012", "NPM_TOKEN": "planted-npm-token-0013",
    "PIP_INDEX_URL": "https://user:planted-index-password-0014@mirror.example/simple",
}
#: What the hostile base's __main__.py does before the real program: dump its environment and what it can
#: see of its package cache, and try to plant a file in it.
DUMP = '''import json as _j, os as _o, pathlib as _p
_b = _p.Path(".build")
(_b / "lambda").mkdir(parents=True, exist_ok=True)
(_b / "lambda" / "planted-by-base").write_text("x")
_p.Path({out!r}).write_text(_j.dumps({{"env": dict(_o.environ), "cwd": _o.getcwd(),
                                       "build_is_link": _b.is_symlink()}}))
'''


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """A base revision (two redirect URIs) whose __main__.py dumps its environment and writes into its
    .build; the head drops one redirect URI. Compared through git (`--compare HEAD`) with credentials
    planted in this process's environment."""
    repo = _repo(tmp_path_factory, "hostile")
    dump = tmp_path_factory.mktemp("dump") / "env.json"
    _set(repo, "redirectUris", [plaid.PLAID_REDIRECT_URI, EXTRA_REDIRECT])
    main = (repo / "__main__.py").read_text()
    (repo / "__main__.py").write_text(DUMP.format(out=str(dump)) + main)
    _git(repo, "commit", "-q", "-am", "base: two redirect URIs, and a hostile __main__")
    (repo / "__main__.py").write_text(main)
    _set(repo, "redirectUris", [plaid.PLAID_REDIRECT_URI])
    before = sorted(p.name for p in (ROOT / ".build" / "lambda").iterdir())
    saved = {k: os.environ.get(k) for k in PLANTED}
    os.environ.update(PLANTED)
    try:
        result = compare.run(repo, STACK, "HEAD")
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return result, json.loads(dump.read_text()), before


def test_row_redirect_uris_through_a_git_revision(hostile):
    (text, code), _, _ = hostile
    assert _impact(text) == [
        f"BREAKING Redirect URI {EXTRA_REDIRECT} removed: Plaid's authorization requests that use it now fail "
        "(redirect_uri mismatch); keep it unless Plaid confirmed in writing it no longer uses it.",
    ]
    assert code == ExitCode.PLAID_BREAKING
    assert f'callbacks: removed ["{EXTRA_REDIRECT}"]' in _section(text, "Resource changes")


def test_no_planted_credential_reaches_the_base(hostile):
    _, seen, _ = hostile
    env = seen["env"]
    dumped = json.dumps(env)
    for name, value in PLANTED.items():
        assert name not in env and value not in dumped, name
    assert not [k for k in env if k.startswith(("AWS_", "GITHUB_", "AUTH0_", "OKTA_"))]
    # The offline switch we pass, and the stack's own config that the plan's mock engine sets in-process.
    assert sorted(k for k in env if k.startswith("PULUMI_")) == [
        "PULUMI_CONFIG", "PULUMI_CONFIG_SECRET_KEYS", "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"]
    assert env["PYTHONPATH"] == seen["cwd"]


def test_the_base_has_its_own_package_cache(hostile):
    _, seen, before = hostile
    assert seen["build_is_link"] is False
    assert not (ROOT / ".build" / "lambda" / "planted-by-base").exists()
    assert sorted(p.name for p in (ROOT / ".build" / "lambda").iterdir()) == before


def test_plan_environment_allows_only_what_an_offline_run_needs(tmp_path):
    env = compare.plan_environment({**PLANTED, "PATH": "/usr/bin", "HOME": "/home/x", "LANG": "C.UTF-8",
                                    "LC_ALL": "C.UTF-8", "PIP_FIND_LINKS": "/opt/wheels", "PYTHONPATH": "/evil",
                                    "HTTPS_PROXY": "http://u:p@proxy:3128", "SSH_AUTH_SOCK": "/tmp/agent",
                                    "KUBECONFIG": "/home/x/.kube/config"}, tmp_path)
    assert env == {"PATH": "/usr/bin", "HOME": "/home/x", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
                   "PIP_FIND_LINKS": "/opt/wheels", "PYTHONPATH": str(tmp_path),
                   "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true"}


# --- a new stack, usage errors --------------------------------------------------------------------


@pytest.fixture(scope="module")
def new_stack(tmp_path_factory):
    repo = _repo(tmp_path_factory, "newstack")
    (repo / "stacks" / "Pulumi.auth0-new.yaml").write_text(
        (repo / "stacks" / f"Pulumi.{STACK}.yaml").read_text())
    return repo, compare.comparison(repo, "auth0-new", "HEAD")


def test_a_stack_the_base_does_not_have_is_a_new_stack(new_stack):
    _, comp = new_stack
    text = compare.render_text(comp)
    assert comp.exit_code == ExitCode.OK and comp.new_stack
    assert text.splitlines()[0] == ("Stack 'auth0-new': new stack (not in HEAD) -> working tree: every resource is a "
                                    "create (an offline plan; not a diff against live state)")
    assert _impact(text) == ["none: a new stack; nothing has been given to Plaid yet"]
    assert {r.action for r in comp.resources} == {"create"}
    assert all(r.before == "not evaluated" for r in comp.readiness) and comp.readiness
    assert text.splitlines()[-1] == "Verdict: new stack, ready for Plaid as declared (exit 0)."
    assert json.loads(compare.render_json(comp))["newStack"] is True


def test_a_new_stack_that_is_not_ready_exits_1(new_stack, tmp_path_factory):
    repo, _ = new_stack
    (repo / "stacks" / "Pulumi.auth0-short.yaml").write_text(
        (repo / "stacks" / f"Pulumi.{STACK}.yaml").read_text() + "  plaid-ready-idp:scopes: [openid]\n")
    text, code = compare.run(repo, "auth0-short", "HEAD")
    assert code == ExitCode.NOT_READY
    assert text.splitlines()[-1].startswith("Verdict: new stack, NOT READY for Plaid: ")


def test_bad_revision_is_a_usage_error(new_stack):
    repo, _ = new_stack
    text, code = compare.run(repo, STACK, "no-such-branch")
    assert code == ExitCode.USAGE
    assert text == ("--compare no-such-branch: not a git revision of this repository, nor a file (try a branch, "
                    "tag or commit such as origin/main or HEAD~1)")


def test_bad_format_and_foreign_saved_plan(base_plans, tmp_path):
    assert compare.run(ROOT, STACK, "HEAD", "yaml") == ("--format yaml: must be one of text, markdown, json", 2)
    other = tmp_path / "other.json"
    other.write_text(json.dumps({**json.loads(base_plans[STACK].read_text()), "stack": "auth0-prod"}))
    assert compare.run(ROOT, STACK, str(other), "text") == (
        f"--compare {other}: a plan of stack 'auth0-prod', not '{STACK}'", 2)
    junk = tmp_path / "junk.json"
    junk.write_text("{not json")
    text, code = compare.run(ROOT, STACK, str(junk), "text")
    assert code == 2 and text.startswith(f"--compare {junk}: not JSON")
    text, code = compare.run(ROOT, STACK, str(base_plans[STACK]), "text", head=str(junk))
    assert code == 2 and text.startswith(f"--head {junk}: not JSON")


def test_head_from_a_saved_plan_plans_only_the_base(base_plans, tmp_path):
    """CI's trusted comparison: this checkout's tools, the base they plan, the pull request's plan as data."""
    head = tmp_path / "pr.json"
    doc = json.loads(base_plans[STACK].read_text())
    for r in doc["resources"]:
        if r["type"] == "aws:lambda/function:Function" and r["name"] == "fpb-customers-fn":
            r["inputs"]["environment"]["variables"]["CONSISTENCY_KEY_PREFIX"] = "fpb-"
    head.write_text(json.dumps(doc))
    text, code = compare.run(ROOT, STACK, str(base_plans[STACK]), "text", head=str(head))
    assert code == ExitCode.PLAID_BREAKING
    assert text.splitlines()[0].endswith("-> plan pr.json (--head) (offline plans of both; not a diff against live "
                                         "state)")
    assert _impact(text)[0].startswith("BREAKING Consistency-key prefix (none) -> fpb-")


def test_a_committed_build_link_in_the_base_is_never_followed(tmp_path):
    base = tmp_path / "base"
    (base / "elsewhere").mkdir(parents=True)
    (base / ".build").symlink_to(base / "elsewhere", target_is_directory=True)
    project = tmp_path / "project"
    (project / ".build" / "lambda" / "k").mkdir(parents=True)
    (project / ".build" / "lambda" / "k" / "customers_current.zip").write_bytes(b"zip")
    assert planning._seed_build_cache(project, base) is True
    assert not (base / ".build").is_symlink()
    assert (base / ".build" / "lambda" / "k" / "customers_current.zip").read_bytes() == b"zip"
    assert list((base / "elsewhere").iterdir()) == []
    shutil.rmtree(base)


def test_a_duplicate_key_in_the_changed_stack_file_is_refused(base_plans, tmp_path_factory):
    tree = _tree(tmp_path_factory, "duplicate")
    stack_file = tree / "stacks" / f"Pulumi.{STACK}.yaml"
    stack_file.write_text(stack_file.read_text() + "  aws:region: us-west-2\n")
    text, code = compare.run(tree, STACK, str(base_plans[STACK]))
    assert code == ExitCode.USAGE
    assert text.startswith(f"stack '{STACK}' at working tree: Pulumi.{STACK}.yaml: duplicate key aws:region (lines 4 "
                           "and 25)"), text
