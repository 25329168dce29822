"""The mock engine behaves like the real one where the plan and the tests depend on it."""

from __future__ import annotations

import pulumi
import pulumi_random as random

from readiness.engine import SecretValue, is_unknown
from tests.harness import declare


def program():
    rb = random.RandomBytes("rb", length=8)  # the SDK marks hex/base64 as additional secret outputs
    rid = random.RandomId("rid", byte_length=4)
    pulumi.export("hex", rb.hex)
    pulumi.export("rid", rid.hex)
    pulumi.export("literal", "x")


def test_additional_secret_outputs_are_secret():
    d = declare(program)
    assert isinstance(d.outputs["hex"], SecretValue) and len(d.outputs["hex"].value) == 16
    assert isinstance(d.outputs["rid"], str) and not isinstance(d.outputs["rid"], SecretValue)
    assert d.one("random:index/randomBytes:RandomBytes").secret_outputs == ["base64", "hex"]


def test_preview_mode_leaves_computed_values_unknown():
    d = declare(program, compute=False)
    assert is_unknown(d.outputs["rid"]) and d.outputs["literal"] == "x"


def test_secret_repr_never_shows_the_value():
    assert repr(SecretValue("hunter2")) == "[secret]" and "hunter2" not in str([SecretValue("hunter2")])


def test_numbers_come_back_as_ints_and_parents_are_recorded():
    class Comp(pulumi.ComponentResource):
        def __init__(self) -> None:
            super().__init__("t:index:Comp", "c")
            random.RandomBytes("child", length=4, opts=pulumi.ResourceOptions(parent=self, protect=True))
            self.register_outputs({})

    d = declare(Comp)
    child = d.one("random:index/randomBytes:RandomBytes")
    assert child.input("length") == 4 and isinstance(child.input("length"), int)
    assert d.parent_of(child).name == "c" and child.protect is True and child.parent_name == "c"


def _aws_program():
    import pulumi_aws as aws

    identity = aws.get_caller_identity_output()
    region = aws.get_region_output()
    partition = aws.get_partition_output()
    pulumi.export("arn", pulumi.Output.all(partition.partition, region.region, identity.account_id).apply(
        lambda a: f"arn:{a[0]}:logs:{a[1]}:{a[2]}:log-group:x:*"))
    pulumi.export("caller", identity.arn)


def _run(config: dict[str, str], compute: bool):
    from components.settings import PROJECT
    from readiness.engine import run_program
    from tests.harness import ROOT

    return run_program(ROOT, PROJECT, "test", config, [], compute=compute, entry=_aws_program)


def test_preview_takes_the_region_from_the_stack_and_invents_no_account():
    from readiness.engine import MOCK_ACCOUNT, UNKNOWN_ACCOUNT, UNKNOWN_TEXT

    run = _run({"aws:region": "eu-west-1"}, compute=False)
    assert run.outputs["arn"] == f"arn:aws:logs:eu-west-1:{UNKNOWN_ACCOUNT}:log-group:x:*"
    assert run.outputs["caller"] == UNKNOWN_TEXT and MOCK_ACCOUNT not in str(run.outputs)


def test_partition_follows_the_region():
    assert _run({"aws:region": "cn-north-1"}, compute=False).outputs["arn"].startswith("arn:aws-cn:logs:cn-north-1:")
    assert _run({"aws:region": "us-gov-west-1"}, compute=False).outputs["arn"].startswith(
        "arn:aws-us-gov:logs:us-gov-west-1:")


def test_compute_mode_keeps_its_deterministic_fakes():
    """Unit tests assert on these values: account 123456789012, region us-east-1 unless the config says."""
    assert _run({}, compute=True).outputs["arn"] == "arn:aws:logs:us-east-1:123456789012:log-group:x:*"
    assert _run({"aws:region": "eu-west-1"}, compute=True).outputs["arn"] == (
        "arn:aws:logs:eu-west-1:123456789012:log-group:x:*")


def test_a_run_reports_only_its_own_exports():
    """Two runs in one process: the second's outputs are its own, not the first's as well."""
    first = _run({"aws:region": "eu-west-1"}, compute=True)
    assert set(first.outputs) == {"arn", "caller"}
    second = declare(program)
    assert set(second.outputs) == {"hex", "rid", "literal"}


def test_unknowns_are_the_vocabularys_marker():
    """Pulumi's own unknown markers become components.checklist.UNKNOWN, which rules and the plan both read."""
    from components.checklist import UNKNOWN

    d = declare(program, compute=False)
    assert d.outputs["rid"] is UNKNOWN and is_unknown(UNKNOWN)
    rid = d.one("random:index/randomId:RandomId")
    assert rid.inputs["byteLength"] == 4


def test_what_an_idp_computes_comes_from_its_package():
    """The engine knows AWS and random; an IdP's outputs and invokes come from the registry's mocks."""
    from components import idps
    from readiness import engine

    for idp in idps.IDPS:
        for typ, mock in idp.mocks.outputs.items():
            assert engine.computed_outputs(typ, "x", {"generateSecret": True}).items() >= mock(
                "x", {"generateSecret": True}).items()
    assert engine.computed_outputs("auth0:index/client:Client", "x", {}) == {
        "clientId": idps.by_name("auth0").mocks.outputs["auth0:index/client:Client"]("x", {})["clientId"]}
