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
