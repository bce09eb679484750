"""The signed render time of the widget and the hosted form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bridge.moderation import form_token

KEY = b"k" * 32
T0 = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def check(token: str | None, *, after: float, app: str = "mobile", key: bytes = KEY) -> str | None:
    return form_token.signal(key, app, token, now=T0 + timedelta(seconds=after), min_seconds=3)


def test_a_person_who_takes_their_time_trips_nothing() -> None:
    token = form_token.issue(KEY, "mobile", T0)
    assert check(token, after=3) is None
    assert check(token, after=6 * 86_400) is None


def test_sooner_than_the_minimum_is_too_fast() -> None:
    assert check(form_token.issue(KEY, "mobile", T0), after=1.5) == "too_fast"


def test_no_token_is_no_signal_a_host_apps_own_page_sends_none() -> None:
    assert check(None, after=10) is None


@pytest.mark.parametrize(
    "token",
    [
        "",
        "v1.123",
        "v2.1.00000000000000000000000000000000",
        "v1.1764763200.00000000000000000000000000000000",  # forged signature
        "v1.99999999999999999.00000000000000000000000000000000",
    ],
)
def test_a_token_the_deployment_did_not_sign_is_bad(token: str) -> None:
    assert check(token, after=10) == "bad_render_time"


def test_a_token_of_another_app_or_key_is_bad() -> None:
    token = form_token.issue(KEY, "mobile", T0)
    assert check(token, after=10, app="web") == "bad_render_time"
    assert check(token, after=10, key=b"other") == "bad_render_time"


def test_a_token_from_the_future_or_over_a_week_old_is_bad() -> None:
    assert check(form_token.issue(KEY, "mobile", T0 + timedelta(minutes=5)), after=0) == (
        "bad_render_time"
    )
    assert check(form_token.issue(KEY, "mobile", T0), after=8 * 86_400) == "bad_render_time"
