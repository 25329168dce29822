"""The checks of an IdP that need no user: the discovery document and the JWKS, judged the way Plaid reads them.

One code for two callers: ``plaid-ready check`` (readiness/check/stages/discovery.py and keys.py fetch with the
command line's HTTP client and report each finding) and the readiness probe Lambda (lambdas/readiness_probe/, which
fetches with lambdas/http.py). Nothing here fetches: each function judges what was fetched. Nothing here raises on
hostile input: a value that is not what it should be is a failed finding with the reason.

Imports only the standard library and plaid_contract, so it ships in a Lambda package without the IaC tree.

- :mod:`~lambdas.oidc_checks.model`: a finding (status and what was seen) and how server values are shown;
- :mod:`~lambdas.oidc_checks.discovery`: DISCOVERY-FETCH, -HTTPS, -FIELDS, -SCOPES, -AUTH-METHOD;
- :mod:`~lambdas.oidc_checks.keys`: JWKS-KEYS;
- :mod:`~lambdas.oidc_checks.rotation`: the signing-key set compared with an earlier one (JWKS-ROTATION: the next
  key shown, a key removed while Plaid's 24-hour JWKS cache may still hold tokens signed with it).
"""
