"""PlaidScopeAdapter under Pulumi's mock engine: Lambda, role, REST API routes, WAF without allowlist, domain."""

from __future__ import annotations

import json

import pulumi
import pytest

import plaid_contract as plaid
from components.idps.cognito.scope_adapter import (
    NOT_FOUND_BODY,
    TYPE,
    AdapterDomainArgs,
    PlaidScopeAdapter,
    ScopeAdapterArgs,
)
from components.waf import MANAGED_RULE_GROUPS, RATE_RULE
from lambdas import build
from tests.harness import declare

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEfGhI"
HOSTED = "https://fpb-login.auth.us-east-1.amazoncognito.com"
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/abc"


def build_adapter(**kw):
    def program() -> None:
        a = PlaidScopeAdapter("fpb-scope-adapter", ScopeAdapterArgs(
            name_prefix="fpb-dev", upstream_issuer=ISSUER, upstream_base_url=HOSTED, **kw))
        pulumi.export("discovery_url", a.discovery_url)
        pulumi.export("authorize_url", a.authorize_url)
    return declare(program)


@pytest.fixture(scope="module")
def plain():
    return build_adapter()


def test_children_types_names_parents(plain):
    comp = plain.one(TYPE, "fpb-scope-adapter")
    direct = sorted((r.type.rsplit(":", 1)[-1], r.name) for r in plain.resources if r.parent_urn == comp.urn)
    n = "fpb-scope-adapter"
    assert direct == sorted([
        ("RestApi", f"{n}-api"), ("LogGroup", f"{n}-fn-logs"), ("Role", f"{n}-fn-role"),
        ("RolePolicy", f"{n}-fn-logs-policy"), ("Function", f"{n}-fn"),
        ("Resource", f"{n}-path-.well-known"), ("Resource", f"{n}-path-.well-known-openid-configuration"),
        ("Resource", f"{n}-path-oauth2"), ("Resource", f"{n}-path-oauth2-authorize"),
        ("Method", f"{n}-openid-configuration"), ("Method", f"{n}-authorize"),
        ("Integration", f"{n}-openid-configuration-lambda"), ("Integration", f"{n}-authorize-lambda"),
        ("Permission", f"{n}-invoke-openid-configuration"), ("Permission", f"{n}-invoke-authorize"),
        ("Response", f"{n}-not-found"), ("Deployment", f"{n}-deployment"), ("LogGroup", f"{n}-access-logs"),
        ("Stage", f"{n}-stage"), ("MethodSettings", f"{n}-throttling"), ("WebAcl", f"{n}-waf"),
        ("LogGroup", f"{n}-waf-logs"), ("WebAclLoggingConfiguration", f"{n}-waf-logging"),
        ("WebAclAssociation", f"{n}-waf-association")])


def test_lambda_handler_package_and_environment(plain):
    fn = plain.one("aws:lambda/function:Function")
    assert fn.input("handler") == build.SCOPE_ADAPTER.handler == "lambdas.scope_adapter.handler.handler"
    assert fn.input("sourceCodeHash") == build.build_function("scope_adapter", "arm64", "3.13").sha256_base64
    assert fn.input("environment", "variables") == {
        "UPSTREAM_ISSUER": ISSUER, "UPSTREAM_BASE_URL": HOSTED,
        "PUBLIC_BASE_URL": "https://fpb-scope-adapter-api-id.execute-api.us-east-1.amazonaws.com/live",
        "POWERTOOLS_SERVICE_NAME": "scope-adapter"}
    assert fn.input("runtime") == "python3.13" and fn.input("architectures") == ["arm64"]


def test_role_writes_its_own_logs_only(plain):
    doc = json.loads(plain.one("aws:iam/rolePolicy:RolePolicy").input("policy"))
    (stmt,) = doc["Statement"]
    assert stmt["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert stmt["Resource"].endswith(":log-group:/aws/lambda/fpb-dev-scope-adapter:*")
    trust = json.loads(plain.one("aws:iam/role:Role").input("assumeRolePolicy"))
    assert trust["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}


def test_routes_any_method_to_the_lambda_and_a_json_404(plain):
    parts = {r.name: r.input("pathPart") for r in plain.of_type("aws:apigateway/resource:Resource")}
    assert sorted(parts.values()) == [".well-known", "authorize", "oauth2", "openid-configuration"]
    for m in plain.of_type("aws:apigateway/method:Method"):
        assert m.input("httpMethod") == "ANY" and m.input("authorization") == "NONE"
    for i in plain.of_type("aws:apigateway/integration:Integration"):
        assert i.input("type") == "AWS_PROXY" and i.input("integrationHttpMethod") == "POST"
        assert i.input("uri").endswith("function:fpb-scope-adapter-fn/invocations")
    arns = sorted(p.input("sourceArn") for p in plain.of_type("aws:lambda/permission:Permission"))
    assert [a.split("/", 1)[1] for a in arns] == ["*/*/.well-known/openid-configuration", "*/*/oauth2/authorize"]
    resp = plain.one("aws:apigateway/response:Response")
    assert resp.input("responseType") == "MISSING_AUTHENTICATION_TOKEN" and resp.input("statusCode") == "404"
    assert json.loads(resp.input("responseTemplates")["application/json"]) == json.loads(NOT_FOUND_BODY)


def test_waf_has_managed_rules_and_rate_limit_but_no_allowlist(plain):
    acl = plain.one("aws:wafv2/webAcl:WebAcl")
    assert acl.input("defaultAction") == {"allow": {}}
    rules = acl.input("rules")
    assert [r["name"] for r in rules] == [*MANAGED_RULE_GROUPS, RATE_RULE]
    assert [r["priority"] for r in rules] == [0, 1, 2]
    assert rules[-1]["statement"]["rateBasedStatement"] == {"limit": 1000, "aggregateKeyType": "IP"}
    assert rules[-1]["action"] == {"block": {}}
    assert plain.of_type("aws:wafv2/ipSet:IpSet") == []
    assert not any("ipSetReferenceStatement" in json.dumps(r) for r in rules)
    assert all(r["visibilityConfig"]["sampledRequestsEnabled"] is False for r in rules)
    logging = plain.one("aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration")
    assert logging.input("redactedFields") == [{"queryString": {}}]
    assoc = plain.one("aws:wafv2/webAclAssociation:WebAclAssociation")
    assert assoc.input("resourceArn").endswith("/stages/live")


def test_without_domain_the_execute_api_url_is_public(plain):
    assert plain.one("aws:apigateway/restApi:RestApi").input("disableExecuteApiEndpoint") is False
    assert plain.of_type("aws:apigateway/domainName:DomainName") == []
    base = "https://fpb-scope-adapter-api-id.execute-api.us-east-1.amazonaws.com/live"
    assert plain.outputs == {"discovery_url": f"{base}/.well-known/openid-configuration",
                             "authorize_url": f"{base}/oauth2/authorize"}


def test_custom_domain_is_plaids_server_domain():
    d = build_adapter(custom_domain=AdapterDomainArgs("auth.firstplatypus.example", CERT), protect=True,
                      rate_limit_per_5_min=500)
    dom = d.one("aws:apigateway/domainName:DomainName")
    assert dom.input("domainName") == "auth.firstplatypus.example" and dom.input("regionalCertificateArn") == CERT
    assert dom.input("securityPolicy") == plaid.MIN_TLS_VERSION and dom.input("mutualTlsAuthentication") is None
    assert dom.protect is True and d.one("aws:apigateway/restApi:RestApi").protect is True
    assert d.one("aws:apigateway/restApi:RestApi").input("disableExecuteApiEndpoint") is True
    assert d.one("aws:apigateway/basePathMapping:BasePathMapping").input("domainName") == "auth.firstplatypus.example"
    fn = d.one("aws:lambda/function:Function")
    assert fn.input("environment", "variables", "PUBLIC_BASE_URL") == "https://auth.firstplatypus.example"
    assert d.outputs["discovery_url"] == "https://auth.firstplatypus.example/.well-known/openid-configuration"
    assert d.one("aws:wafv2/webAcl:WebAcl").input("rules")[-1]["statement"]["rateBasedStatement"]["limit"] == 500
