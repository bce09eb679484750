"""``[notify.email]``: validated with the file, the environment's overrides, off by default."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bridge.settings import ConfigError, Settings
from tests.conftest import CONFIG


def test_email_is_off_without_a_sender(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(CONFIG)
    assert not settings.notify.email.enabled


def test_the_file_and_the_environment(make_settings: Callable[..., Settings]) -> None:
    config = CONFIG + '\n[notify.email]\nsender = "Acme Feedback <feedback@acme.example>"\n'
    settings = make_settings(config, AWS_REGION="eu-west-1")
    email = settings.notify.email
    assert email.enabled
    assert email.sender_address == "feedback@acme.example"
    assert (email.region, email.configuration_set) == ("eu-west-1", None)
    stack = make_settings(
        CONFIG,
        FEATUREBRIDGE_EMAIL_SENDER="news@acme.example",
        FEATUREBRIDGE_EMAIL_CONFIGURATION_SET="fb-config-set-1",
    )
    assert stack.notify.email.sender == "news@acme.example"
    assert stack.notify.email.configuration_set == "fb-config-set-1"


@pytest.mark.parametrize(
    "line",
    [
        'sender = "not an address"',
        'sender = "Acme <feedback@localhost>"',
        'configuration_set = "has spaces"',
        'region = "Mars"',
        'from = "a@acme.example"',
    ],
)
def test_bad_settings_name_the_key(make_settings: Callable[..., Settings], line: str) -> None:
    with pytest.raises(ConfigError) as raised:
        make_settings(CONFIG + f"\n[notify.email]\n{line}\n")
    assert "notify.email" in str(raised.value)


def test_a_bad_sender_from_the_environment_is_a_config_error(
    make_settings: Callable[..., Settings],
) -> None:
    with pytest.raises(ConfigError) as raised:
        make_settings(CONFIG, FEATUREBRIDGE_EMAIL_SENDER="nobody")
    assert "FEATUREBRIDGE_EMAIL_SENDER" in str(raised.value)
