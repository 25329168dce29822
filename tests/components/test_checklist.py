"""The rule vocabulary (components/checklist.py): pure, and what rules read of a resource's place in the tree."""

from __future__ import annotations

import copy
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

from components.checklist import UNKNOWN, Context, SecretValue, in_component, is_secret, is_unknown, unwrap, urn_type
from tests.harness import ROOT

STACK = "urn:pulumi:s::p::pulumi:pulumi:Stack::p-s"


@dataclass
class R:
    urn: str
    type: str
    parent_urn: str = ""
    name: str = ""
    protect: bool = False
    inputs: dict[str, Any] = field(default_factory=dict)
    dependencies: list[str] = field(default_factory=list)

    def input(self, *path: str | int, default: Any = None) -> Any:
        return default


API = R("urn:pulumi:s::p::pulumi:pulumi:Stack$x:api:Api::api", "x:api:Api", STACK)
WAF = R("urn:pulumi:s::p::x:api:Api$x:waf:Waf::waf", "x:waf:Waf", API.urn)
ACL = R("urn:pulumi:s::p::x:waf:Waf$aws:wafv2/webAcl:WebAcl::acl", "aws:wafv2/webAcl:WebAcl", WAF.urn)
OTHER = R("urn:pulumi:s::p::pulumi:pulumi:Stack$aws:wafv2/webAcl:WebAcl::other", "aws:wafv2/webAcl:WebAcl", STACK)


def test_urn_type_is_the_last_type_of_the_chain():
    assert urn_type(ACL.urn) == "aws:wafv2/webAcl:WebAcl" and urn_type(WAF.urn) == "x:waf:Waf"
    assert urn_type("") == "" and urn_type("not-a-urn") == ""


def test_within_follows_parents_at_any_depth():
    ctx = Context([API, WAF, ACL, OTHER])
    assert [r.urn for r in ctx.within("x:api:Api")] == [API.urn, WAF.urn, ACL.urn]
    assert in_component(WAF, "x:api:Api") and not in_component(ACL, "x:api:Api")  # direct children only
    # A parent left out of the list ends the walk there: its own type still counts.
    assert [r.urn for r in Context([ACL, OTHER]).within("x:waf:Waf")] == [ACL.urn]
    assert Context([ACL, OTHER]).within("x:api:Api") == []


def test_markers():
    assert is_unknown(UNKNOWN) and copy.deepcopy(UNKNOWN) is UNKNOWN and repr(UNKNOWN) == "(known after apply)"
    assert not is_unknown("(known after apply)") and not is_unknown(None)
    s = SecretValue("hunter2")
    assert is_secret(s) and unwrap(s) == "hunter2" and "hunter2" not in repr([s]) and not is_secret("x")


def test_the_vocabulary_imports_only_the_standard_library():
    code = ("import sys; import components.checklist; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pulumi', 'pydantic', 'readiness')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                         check=True)
    assert out.stdout.strip() == "[]"
