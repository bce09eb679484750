"""featurebridge doctor against the GitHub double: installation and labels per app."""

from __future__ import annotations

from collections.abc import Callable

from bridge.doctor import check
from bridge.settings import Settings
from tests.github_double import GitHubDouble

CONFIG = """
[[apps]]
id = "mobile"
name = "Acme Mobile"
repo = "acme/mobile"
labels = ["feature-request", "app:mobile"]
[apps.status_labels]
"status: planned" = "planned"

[[apps]]
id = "web"
name = "Acme Web"
repo = "other/web"
labels = ["feature-request"]
"""


def test_doctor_finds_missing_installation_and_renamed_status_label(
    make_settings: Callable[..., Settings], github_double: GitHubDouble
) -> None:
    github_double.add_installation("acme", repos=["acme/mobile"])
    with github_double.serve() as base_url:
        settings = make_settings(
            CONFIG,
            GITHUB_API_URL=base_url,
            GITHUB_APP_ID=str(github_double.app_id),
            GITHUB_APP_PRIVATE_KEY=github_double.private_key_pem,
        )
        findings = {f.subject: f for f in check(settings)}
        assert findings["github"].ok
        mobile, web = findings["app mobile"], findings["app web"]
        assert not mobile.ok
        assert "'status: planned'" in mobile.detail
        assert not web.ok
        assert "not installed" in web.detail
        github_double.add_label("acme/mobile", "Status: Planned")
        fixed = {f.subject: f for f in check(settings)}
        assert fixed["app mobile"].ok
    # The double fails the test if doctor sent anything GitHub's description forbids.


def test_doctor_reports_two_apps_whose_secrets_hold_one_value(
    make_settings: Callable[..., Settings],
) -> None:
    config = """
[[apps]]
id = "mobile"
name = "Acme Mobile"
repo = "acme/mobile"
labels = ["feature-request"]
voter_secret_env = "MOBILE_VOTER_SECRET"

[[apps]]
id = "web"
name = "Acme Web"
repo = "acme/web"
labels = ["feature-request"]
voter_secret_env = "WEB_VOTER_SECRET"
form_secret_env = "WEB_FORM_SECRET"
"""
    shared = "one-secret-for-two-apps-of-32-bytes!"
    settings = make_settings(
        config,
        MOBILE_VOTER_SECRET=shared,
        WEB_VOTER_SECRET="web-only-secret-of-at-least-32-bytes",
        WEB_FORM_SECRET=shared,
    )
    [finding] = [f for f in check(settings) if f.subject == "secrets"]
    assert not finding.ok
    assert "mobile and web" in finding.detail
    assert "MOBILE_VOTER_SECRET and WEB_FORM_SECRET" in finding.detail
    assert shared not in finding.detail
    apart = make_settings(
        config,
        MOBILE_VOTER_SECRET=shared,
        WEB_VOTER_SECRET="web-only-secret-of-at-least-32-bytes",
        WEB_FORM_SECRET="web-form-secret-of-at-least-32-bytes",
    )
    assert not [f for f in check(apart) if f.subject == "secrets"]
