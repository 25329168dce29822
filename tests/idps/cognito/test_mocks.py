"""What the mock engine answers for Cognito (components/idps/cognito/mocks.py, read through the registry)."""

from __future__ import annotations


def test_a_cognito_client_with_generate_secret_gets_a_generated_secret_only_in_test_mode():
    from readiness.engine import computed_outputs

    client = "aws:cognito/userPoolClient:UserPoolClient"
    generated = computed_outputs(client, "c", {"generateSecret": True})["clientSecret"]
    assert len(generated) == 52 and generated == computed_outputs(client, "c", {"generateSecret": True})["clientSecret"]
    assert "clientSecret" not in computed_outputs(client, "c", {"generateSecret": False})
