"""plaid-ready-idp: settings -> the registry's IdP -> its tenant -> the customers API -> the readiness probe ->
exports. Keep it thin."""

import pulumi

from components import idps
from components.customers_api import CustomersApiArgs, PlaidCustomersApi
from components.probe import PlaidReadinessProbe, ProbeArgs
from components.settings import SettingsError, load_settings

try:
    settings = load_settings()
except SettingsError as exc:
    # RunError ends the program with the message alone (no traceback, no source listing).
    raise pulumi.RunError(str(exc)) from None

tenant = idps.by_name(settings.idp).tenant(settings)
api = PlaidCustomersApi(f"{settings.institution.code}-customers", CustomersApiArgs.from_settings(settings, tenant))
if settings.probe_enabled:
    PlaidReadinessProbe(f"{settings.institution.code}-probe", ProbeArgs.from_settings(
        settings, discovery_url=tenant.discovery_url, customers_url=api.customers_current_url,
        alarm_topic_arn=api.monitoring.topic.arn))

# What to hand to Plaid: public values only. The client secret stays in Secrets Manager.
for key, value in tenant.outputs().items():
    if value is not None:
        pulumi.export(key, value)
pulumi.export("customers_api_base_url", api.base_url)
pulumi.export("customers_current_url", api.customers_current_url)
