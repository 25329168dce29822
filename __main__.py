"""plaid-ready-idp: settings -> components -> exports. Keep this file thin."""

import importlib
import importlib.util

import pulumi

from components.settings import SettingsError, load_settings

try:
    settings = load_settings()
except SettingsError as exc:
    # RunError ends the program with the message alone (no traceback, no source listing).
    raise pulumi.RunError(str(exc)) from None

# Each IdP's component module (components/<idp>.py) offers tenant(settings) -> TenantContract.
_module = f"components.{settings.idp.value}"
if importlib.util.find_spec(_module) is None:
    raise pulumi.RunError(f"idp {settings.idp.value}: this version has no {settings.idp.value} tenant component "
                          "yet (see README, Roadmap)")
tenant = importlib.import_module(_module).tenant(settings)

from components.customers_api import CustomersApiArgs, PlaidCustomersApi  # noqa: E402

api = PlaidCustomersApi(f"{settings.institution.code}-customers",
                        CustomersApiArgs(settings=settings, tenant=tenant))

# What to hand to Plaid: public values only. The client secret stays in Secrets Manager.
for key, value in tenant.outputs().items():
    if value is not None:
        pulumi.export(key, value)
pulumi.export("customers_api_base_url", api.base_url)
pulumi.export("customers_current_url", api.customers_current_url)
