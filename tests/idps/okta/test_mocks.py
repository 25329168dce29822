"""What the mock engine answers for Okta (components/idps/okta/mocks.py, read through the registry)."""

from __future__ import annotations

import pulumi

from components.idps.okta.mocks import EVERYONE_GROUP_ID as OKTA_EVERYONE_GROUP_ID


def _okta_everyone() -> None:
    import pulumi_okta as okta

    pulumi.export("everyone", okta.group.get_everyone_group_output().id)


def test_okta_everyone_group_is_a_fake_id_in_tests_and_unknown_in_the_plan():
    from components.settings import PROJECT
    from readiness.engine import UNKNOWN_TEXT, run_program
    from tests.harness import ROOT

    def everyone(compute: bool) -> object:
        return run_program(ROOT, PROJECT, "test", {}, [], compute=compute, entry=_okta_everyone).outputs["everyone"]

    assert everyone(True) == OKTA_EVERYONE_GROUP_ID
    assert everyone(False) == UNKNOWN_TEXT
