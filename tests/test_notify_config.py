"""``[[apps.notify.webhooks]]`` and the notification settings: clear errors, safe defaults."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bridge.settings import ConfigError, Settings

APP = """
[[apps]]
id = "mobile"
name = "Acme Mobile"
repo = "acme/mobile"
labels = ["feature-request"]
"""


def test_webhooks_default_to_every_event_and_targets_to_public_addresses(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(
        APP
        + """
[[apps.notify.webhooks]]
url = "https://hooks.slack.com/services/T0/B0/secret-part"
format = "slack"
"""
    )
    app = settings.app("mobile")
    assert app is not None
    (hook,) = app.notify.webhooks
    assert hook.events == ["request.created", "request.status_changed", "vote.milestone"]
    assert hook.host == "hooks.slack.com"
    assert "secret-part" not in hook.key
    assert settings.server.allow_private_webhook_targets is False
    assert settings.events_topic_arn is None


@pytest.mark.parametrize(
    ("webhook", "message"),
    [
        ('url = "https://h.example/x"\nformat = "json"', "needs secret_env"),
        ('url = "https://h.example/x"\nformat = "slack"\nsecret_env = "S"', "secret_env is for"),
        ('url = "ftp://h.example/x"\nformat = "slack"', "is not an http(s) URL"),
        ('url = "https://u:p@h.example/x"\nformat = "slack"', "may not carry a user"),
        ('url = "https://h.example:99999/x"\nformat = "slack"', "is not an http(s) URL"),
        ('url = "https://h example/x"\nformat = "slack"', "is not an http(s) URL"),
        ('url = "https://h\u00e4.example/x"\nformat = "slack"', "xn-- form"),
        ('url = "https://h.example/x"\nformat = "xml"\nsecret_env = "S"', "'slack' or 'json'"),
        ('url = "https://h.example/x"\nformat = "slack"\nevents = ["request.voted"]', "events"),
        ('url = "https://h.example/x"\nformat = "slack"\nevents = []', "events"),
    ],
)
def test_a_bad_webhook_is_refused_at_start_naming_the_app_and_the_fix(
    make_settings: Callable[..., Settings], webhook: str, message: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        make_settings(APP + "\n[[apps.notify.webhooks]]\n" + webhook + "\n")
    text = str(refused.value)
    assert "apps[0] (id = 'mobile').notify.webhooks[0]" in text
    assert message in text


def test_the_same_receiver_twice_is_refused(make_settings: Callable[..., Settings]) -> None:
    hook = '\n[[apps.notify.webhooks]]\nurl = "https://h.example/x"\nformat = "slack"\n'
    with pytest.raises(ConfigError, match="two webhooks have the same url"):
        make_settings(APP + hook + hook)


def test_the_topic_comes_from_the_environment(make_settings: Callable[..., Settings]) -> None:
    arn = "arn:aws:sns:us-east-1:123456789012:featurebridge-events"
    assert make_settings(APP, FEATUREBRIDGE_EVENTS_TOPIC_ARN=arn).events_topic_arn == arn


def test_doctor_reports_a_webhook_whose_secret_is_not_set(
    make_settings: Callable[..., Settings],
) -> None:
    from bridge.doctor import check

    hook = """
[[apps.notify.webhooks]]
url = "https://tools.example.com/featurebridge"
format = "json"
secret_env = "MOBILE_WEBHOOK_SECRET"
"""
    findings = check(make_settings(APP + hook))
    assert any(
        not f.ok
        and f.detail == "MOBILE_WEBHOOK_SECRET is not set (the webhook to tools.example.com waits)"
        for f in findings
    )
    given = check(make_settings(APP + hook, MOBILE_WEBHOOK_SECRET="x" * 32))
    assert not any("MOBILE_WEBHOOK_SECRET" in f.detail for f in given)
