"""The okta: section's orgUrl: the org's own Okta URL, never its admin console or a custom domain."""

from __future__ import annotations

import pytest

from components.settings import PROJECT, SettingsError, parse_settings
from tests.harness import config_of, settings_with

ADMIN = (f"{PROJECT}:okta.orgUrl: orgUrl is the admin console's URL (<org>-admin.<domain>); give the org's own URL, "
         "without -admin (e.g. https://first-platypus.okta.com, not https://first-platypus-admin.okta.com)")
NOT_OKTA = (f"{PROJECT}:okta.orgUrl: orgUrl must be the org's Okta URL, https://<org>.<domain> with domain one of "
            "okta.com, oktapreview.com, okta-emea.com, okta-gov.com, okta.mil (e.g. https://first-platypus.okta.com); "
            "a custom domain is not the org: put it in customDomain (the issuer then uses it)")


def okta(org_url: str) -> dict:
    return settings_with(idp="okta", auth0=None, okta={"orgUrl": org_url})


def problems(settings: dict) -> list[str]:
    with pytest.raises(SettingsError) as info:
        parse_settings(config_of(settings))
    return info.value.problems


@pytest.mark.parametrize("url", ["https://first-platypus.okta.com", "https://dev-123456.oktapreview.com",
                                 "https://x.okta-emea.com", "https://agency.okta-gov.com", "https://unit.okta.mil",
                                 "https://first-platypus.okta.com/"])
def test_the_orgs_own_url_on_an_okta_domain(url):
    s = parse_settings(config_of(okta(url))).idp_settings
    assert s.org_url == url.rstrip("/") and s.base_url == url.removeprefix("https://").split(".", 1)[1].rstrip("/")


@pytest.mark.parametrize("url", ["https://x-admin.okta-emea.com", "https://first-platypus-admin.okta.com",
                                 "https://dev-1-admin.oktapreview.com"])
def test_the_admin_console_url_is_refused(url):
    assert problems(okta(url)) == [ADMIN]


@pytest.mark.parametrize("url", ["https://login.firstplatypus.example", "https://id.example.com",
                                 "https://x.okta.com.evil.example", "https://a.b.okta.com"])
def test_a_custom_domain_is_not_the_org(url):
    assert problems(okta(url)) == [NOT_OKTA]


def test_the_admin_console_would_otherwise_have_planned_with_org_x_admin():
    """What the review found: before, https://x-admin.okta-emea.com planned ready with org 'x-admin'."""
    assert problems(okta("https://x-admin.okta-emea.com")) == [ADMIN]
    assert parse_settings(config_of(okta("https://x.okta-emea.com"))).idp_settings.org_name == "x"
