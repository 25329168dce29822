"""plan --compare on hand-made plan documents: replacement prediction, stateful flags, secrets, markers.

No plan runs here (fast); tests/readiness/test_compare.py drives real plans of scratch revisions.
"""

from __future__ import annotations

import copy
import json

import plaid_contract as plaid
from readiness import compare
from readiness.compare.model import SECRET, UNKNOWN, flatten, read_plan
from readiness.compare.replace import CREATE_ONLY, replace_reasons
from readiness.exit_codes import ExitCode
from readiness.rules.secrets import STATEFUL_TYPES


def _doc(resources, outputs=None, readiness=None):
    return {"stack": "s", "project": "p", "outputs": outputs or {}, "readiness": readiness or [],
            "resources": [{"type": t, "name": n, "parent": None, "custom": True, "protect": False, "inputs": i}
                          for t, n, i in resources]}


def _compare(old, new):
    return compare.compare_plans(read_plan(old), read_plan(new), "s", "base")


def test_every_stateful_type_has_a_create_only_row():
    assert set(STATEFUL_TYPES) <= set(CREATE_ONLY)


def test_create_only_paths_match_nested_changes():
    assert replace_reasons("auth0:index/resourceServer:ResourceServer", ["identifier", "tokenLifetime"]) == [
        "identifier"]
    assert replace_reasons("random:index/randomBytes:RandomBytes", ["keepers.version"]) == ["keepers.version"]
    assert replace_reasons("auth0:index/client:Client", ["callbacks", "jwtConfiguration.lifetimeInSeconds"]) == []
    assert replace_reasons("aws:apigateway/restApi:RestApi", ["name", "description"]) == []
    assert replace_reasons("unknown:type", ["anything"]) == []


def test_new_audience_replaces_the_auth0_api_and_breaks_plaid():
    old = _doc([("auth0:index/resourceServer:ResourceServer", "b-api", {"identifier": "https://a.example/fdx"})],
               outputs={"audience": "https://a.example/fdx"})
    new = copy.deepcopy(old)
    new["resources"][0]["inputs"]["identifier"] = "https://b.example/fdx"
    new["outputs"]["audience"] = "https://b.example/fdx"
    comp = _compare(old, new)
    assert [r.action for r in comp.resources] == ["replace"]
    assert comp.resources[0].replace_because == ["identifier"] and comp.resources[0].stateful
    assert [x.message.split(":")[0] for x in comp.impact] == [
        "Auth0 API b-api is replaced (changed identifier)", "Access-token audience https"]
    assert comp.exit_code == ExitCode.PLAID_BREAKING
    assert "(replaced because identifier cannot change in place; STATEFUL: its state is lost)" in \
        compare.render_text(comp)


def test_replaced_cognito_user_pool_changes_every_sub():
    pool = "aws:cognito/userPool:UserPool"
    old = _doc([(pool, "b-users", {"usernameAttributes": ["email"], "name": "b"})])
    new = _doc([(pool, "b-users", {"usernameAttributes": ["phone_number"], "name": "b"})])
    comp = _compare(old, new)
    assert [x.message for x in comp.impact] == [
        "Cognito user pool b-users is replaced (changed usernameAttributes): every user gets a new sub, so every "
        "customerId changes and every linked Plaid user must re-link; do not merge unless that is intended."]


def test_secret_changes_never_show_a_value():
    old = _doc([("aws:secretsmanager/secretVersion:SecretVersion", "v", {"secretString": "plain-old-value"})])
    new = _doc([("aws:secretsmanager/secretVersion:SecretVersion", "v", {"secretString": {"secret": True}})])
    comp = _compare(old, new)
    for fmt in compare.FORMATS:
        out = compare.RENDER[fmt](comp)
        assert "plain-old-value" not in out
    assert "secretString: [secret changed]" in compare.render_text(comp)
    assert {"path": "secretString", "secretChanged": True} in json.loads(compare.render_json(comp))[
        "resourceChanges"][0]["changes"]


def test_markers_in_both_formats_and_unknowns_are_not_changes():
    assert flatten({"a": "[secret]", "b": {"secret": True}, "c": "(known after apply)", "d": {"unknown": True}}) == {
        "a": SECRET, "b": SECRET, "c": UNKNOWN, "d": UNKNOWN}
    old = _doc([("aws:iam/role:Role", "r", {"name": "x", "arn": "(known after apply)"})])
    new = _doc([("aws:iam/role:Role", "r", {"name": "x", "arn": {"unknown": True}})])
    assert _compare(old, new).unchanged


def test_json_documents_in_strings_diff_by_field():
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["logs:PutLogEvents"]}]}
    wider = copy.deepcopy(policy)
    wider["Statement"][0]["Action"] = ["logs:*"]
    old = _doc([("aws:iam/rolePolicy:RolePolicy", "p", {"policy": json.dumps(policy)})])
    new = _doc([("aws:iam/rolePolicy:RolePolicy", "p", {"policy": wider})])  # a string or an object: one model
    comp = _compare(old, new)
    assert [(c.path, c.old, c.new) for c in comp.resources[0].changes] == [
        ("policy.Statement[0].Action", ("logs:PutLogEvents",), ("logs:*",))]


def test_allowlist_additions_are_notices_removals_break():
    ipset = "aws:wafv2/ipSet:IpSet"
    legacy = plaid.PLAID_LEGACY_IPV4[0]
    old = _doc([(ipset, "v4", {"addresses": [legacy, "198.51.100.0/24"]})])
    new = _doc([(ipset, "v4", {"addresses": [legacy, "203.0.113.0/24"]})])
    comp = _compare(old, new)
    assert [(x.severity, x.message.split(":")[0]) for x in comp.impact] == [
        ("breaking", "Range 198.51.100.0/24 dropped from the WAF allowlist"),
        ("notice", "Range 203.0.113.0/24 added to the WAF allowlist (not one of Plaid's published ranges)")]


def test_newly_failing_rule_wins_over_a_breaking_change():
    rule = {"id": "R", "status": "pass", "mandatory": True, "requirement": "req"}
    old = _doc([("auth0:index/client:Client", "c", {"callbacks": ["https://a.example/cb", "https://b.example/cb"]})],
               readiness=[rule])
    new = _doc([("auth0:index/client:Client", "c", {"callbacks": ["https://a.example/cb"]})],
               readiness=[{**rule, "status": "fail"}])
    comp = _compare(old, new)
    assert comp.newly_failing == ["R"] and comp.breaking
    assert comp.exit_code == ExitCode.NOT_READY
    # An advisory rule that fails does not.
    advisory = _doc([("auth0:index/client:Client", "c", {"callbacks": ["https://a.example/cb"]})],
                    readiness=[{**rule, "status": "fail", "mandatory": False}])
    assert _compare(old, advisory).exit_code == ExitCode.PLAID_BREAKING
