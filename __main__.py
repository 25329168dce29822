"""plaid-ready-idp: settings -> components -> exports. Keep this file thin."""

import pulumi

from components.settings import Idp, SettingsError, load_settings

try:
    settings = load_settings()
except SettingsError as exc:
    # RunError ends the program with the message alone (no traceback, no source listing).
    raise pulumi.RunError(str(exc)) from None

if settings.idp is Idp.AUTH0:
    from components.auth0 import Auth0TenantArgs, PlaidAuth0Tenant

    tenant = PlaidAuth0Tenant(settings.institution.code, Auth0TenantArgs(settings=settings)).contract
else:
    raise pulumi.RunError(
        f"idp {settings.idp.value}: this version ships the Auth0 tenant component only; "
        "the Okta and Cognito components are not available yet (see README, Roadmap)")

from components.customers_api import CustomersApiArgs, PlaidCustomersApi  # noqa: E402

api = PlaidCustomersApi(f"{settings.institution.code}-customers",
                        CustomersApiArgs(settings=settings, tenant=tenant))

# What to hand to Plaid: public values only. The client secret stays in Secrets Manager.
for key, value in tenant.outputs().items():
    if value is not None:
        pulumi.export(key, value)
pulumi.export("customers_api_base_url", api.base_url)
pulumi.export("customers_current_url", api.customers_current_url)
