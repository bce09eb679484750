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


def test_shared_pacer_keeps_every_minute_and_hour_within_the_budget(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime, timedelta

    from bridge.pacing import SharedPacer
    from bridge.stores.sqlite import SQLiteStore

    store = SQLiteStore(tmp_path / "pace.db")
    now = [datetime(2026, 11, 25, 12, 0, 7, tzinfo=UTC)]
    pacer = SharedPacer(
        Budget(per_minute=80, per_hour=500),
        lambda key, seconds, at: store.hit_rate_limit(key, window_seconds=seconds, now=at),
        lambda: now[0],
    )
    spent: list[float] = []
    for _ in range(3 * 3600 // 2):  # a greedy caller, every two seconds for three hours
        wait = pacer.reserve("acme")
        if wait == 0:
            spent.append(now[0].timestamp())
        else:
            assert 0 < wait <= 600
        now[0] += timedelta(seconds=2)
    assert other_key_is_free(pacer)
    for moment in spent:
        assert sum(1 for t in spent if moment - 60 < t <= moment) <= 80
        assert sum(1 for t in spent if moment - 3600 < t <= moment) <= 500
    assert len(spent) >= 3 * 400  # and it does not starve: most of the budget is used


def other_key_is_free(pacer) -> bool:  # type: ignore[no-untyped-def]
    return pacer.reserve("other-installation") == 0


def test_runtime_shares_the_budget_when_the_store_is_shared(make_settings) -> None:  # type: ignore[no-untyped-def]
    from bridge.app import build_runtime
    from bridge.pacing import SharedPacer
    from tests.fakes import FakeTracker, RecordingQueue

    class NoStore:
        def hit_rate_limit(self, key, *, window_seconds, now):  # type: ignore[no-untyped-def]
            return 1

    runtime = build_runtime(
        make_settings(FEATUREBRIDGE_STORE="dynamodb://t"),
        store=NoStore(),  # type: ignore[arg-type]
        tracker=FakeTracker(),
        queue=RecordingQueue(),
    )
    assert isinstance(runtime.pacer, SharedPacer)
    assert isinstance(
        build_runtime(make_settings(), tracker=FakeTracker(), queue=RecordingQueue()).pacer, Pacer
    )
