"""Backoff and pacing rules."""

from __future__ import annotations

from bridge.pacing import Budget, Pacer
from bridge.retry import MAX_DELAY_SECONDS, retry_delay


def test_backoff_doubles_with_jitter_in_the_upper_half() -> None:
    assert retry_delay(1, rand=lambda: 0.0) == 1.0
    assert retry_delay(1, rand=lambda: 1.0) == 2.0
    assert retry_delay(4, rand=lambda: 1.0) == 16.0
    assert retry_delay(4, rand=lambda: 0.0) == 8.0


def test_backoff_is_capped() -> None:
    assert retry_delay(40, rand=lambda: 1.0) == MAX_DELAY_SECONDS


def test_retry_after_is_a_floor() -> None:
    assert retry_delay(1, 90.0, rand=lambda: 1.0) == 90.0
    assert retry_delay(12, 1.0, rand=lambda: 1.0) > 1.0


def test_pacer_spends_per_key_and_says_how_long_to_wait() -> None:
    now = [1000.0]
    pacer = Pacer(Budget(per_minute=2, per_hour=3), clock=lambda: now[0])
    assert pacer.reserve("acme") == 0
    now[0] += 1
    assert pacer.reserve("acme") == 0
    assert pacer.reserve("acme") == 59.0  # the first creation leaves the minute window at 1060
    assert pacer.reserve("other") == 0
    now[0] += 60
    assert pacer.reserve("acme") == 0  # third of the hour
    now[0] += 60
    wait = pacer.reserve("acme")
    assert wait == 3600 - 121  # the hour window frees at the first creation + 3600
