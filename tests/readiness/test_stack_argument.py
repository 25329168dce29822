"""``--stack x.yaml``: a file name that is not a stack file's gets a clear line (and the stack it most likely
means), never a search for ``Pulumi.x.yaml.yaml``."""

from __future__ import annotations

import pytest

from readiness.plan import UsageError, resolve_stack
from tests.harness import ROOT


@pytest.mark.parametrize(("given", "hint"), [
    ("auth0-example.yaml", "; did you mean --stack auth0-example?"),
    ("auth0-example.yml", "; did you mean --stack auth0-example?"),
    ("nope.yaml", ""),
])
def test_a_yaml_name_that_is_not_a_stack_file(given, hint):
    with pytest.raises(UsageError) as info:
        resolve_stack(ROOT, given, cwd=ROOT)
    assert str(info.value) == ("--stack takes a stack name or the path of a stack file (stacks/Pulumi.<name>.yaml); "
                               f"'{given}' is not a stack file name{hint}")
    assert ".yaml.yaml" not in str(info.value)


@pytest.mark.parametrize("given", ["auth0-example", "Pulumi.auth0-example.yaml", "stacks/Pulumi.auth0-example.yaml"])
def test_names_and_stack_files_still_resolve(given):
    assert resolve_stack(ROOT, given, cwd=ROOT) == "auth0-example"
