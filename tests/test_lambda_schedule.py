"""The schedule entry (``lambda/schedule_entry.py``) on an EventBridge "Scheduled Event"."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bridge.app import build_runtime
from bridge.domain import Delivery
from bridge.runtime import Runtime
from bridge.settings import Settings
from bridge.stores.sqlite import SQLiteStore
from bridge.tracking import UnconfiguredTracker
from tests.fakes import FakeClock, FakeTracker, RecordingQueue, submit
from tests.lambda_support import (
    Entries,
    FakeContext,
    entries,  # noqa: F401
    scheduled_event,
)


@pytest.fixture
def schedule(entries: Entries, runtime: Runtime) -> Callable[..., dict[str, int]]:  # noqa: F811
    entries.common.use_runtime(runtime)

    def call(context: Any = None) -> dict[str, int]:
        return entries.schedule.handler(scheduled_event(), context or FakeContext(300_000))

    return call


def test_scheduled_event_sweeps_the_outbox_and_syncs(
    schedule: Callable[..., dict[str, int]], runtime: Runtime, tracker: FakeTracker
) -> None:
    ids = [submit(runtime, f"Request {n}") for n in range(3)]
    result = schedule()
    # Nothing waits once the sweep is done: no metric line.
    assert result == {
        "sweep": 3,
        "metrics": 0,
        "sync": len(runtime.settings.apps),
        "retention": 0,
    }
    for sid in ids:
        assert runtime.store.get_submission(sid).delivery is Delivery.DELIVERED  # type: ignore[union-attr]
    assert len(tracker.issues["acme/mobile"]) == 3


def test_sweep_goes_on_while_batches_come_back_full(
    entries: Entries,  # noqa: F811
    schedule: Callable[..., dict[str, int]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bridge import jobs

    passes = iter([jobs.SWEEP_BATCH, jobs.SWEEP_BATCH, 3, 99])
    monkeypatch.setattr(jobs, "sweep", lambda rt: next(passes))
    assert schedule()["sweep"] == 2 * jobs.SWEEP_BATCH + 3
    assert next(passes) == 99  # it stopped after the short batch


def test_sweep_stops_near_the_timeout(
    schedule: Callable[..., dict[str, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from bridge import jobs

    calls: list[int] = []

    def full(rt: Runtime) -> int:
        calls.append(1)
        return jobs.SWEEP_BATCH

    monkeypatch.setattr(jobs, "sweep", full)
    # One full batch, then the context says the invocation is nearly over.
    assert schedule(FakeContext(remaining_ms=10_000))["sweep"] == jobs.SWEEP_BATCH
    assert len(calls) == 1


def test_a_sweep_that_never_comes_back_short_is_bounded(
    entries: Entries,  # noqa: F811
    schedule: Callable[..., dict[str, int]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bridge import jobs

    monkeypatch.setattr(jobs, "sweep", lambda rt: jobs.SWEEP_BATCH)
    assert schedule()["sweep"] == entries.schedule.MAX_ROUNDS * jobs.SWEEP_BATCH


@pytest.fixture
def offline(
    entries: Entries,  # noqa: F811
    make_settings: Callable[..., Settings],
    tmp_path: Path,
    clock: FakeClock,
) -> Runtime:
    """The schedule's runtime without GitHub credentials: submissions only wait."""
    runtime = build_runtime(
        make_settings(),
        store=SQLiteStore(tmp_path / "s.db"),
        tracker=UnconfiguredTracker(),
        queue=RecordingQueue(),
        clock=clock,
    )
    entries.common.use_runtime(runtime)
    return runtime


def test_without_github_nothing_is_attempted(
    entries: Entries,  # noqa: F811
    offline: Runtime,
) -> None:
    runtime = offline
    submit(runtime, "Waits")
    assert entries.schedule.handler(scheduled_event(), FakeContext()) == {
        "sweep": 0,
        "metrics": 1,
        "sync": 0,
        "retention": 0,
    }
    assert runtime.store.outbox_stats().pending == 1


def test_a_waiting_submission_is_reported_as_an_embedded_metric(
    entries: Entries,  # noqa: F811
    offline: Runtime,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bridge.metrics import FUNCTION_DIMENSION, NAMESPACE, OLDEST_PENDING_AGE

    runtime = offline
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "stack-ScheduleFunction-1A2B")
    submit(runtime, "Waits")
    clock.advance(90)
    submit(runtime, "Waits too")
    clock.advance(30)
    entries.schedule.handler(scheduled_event(), FakeContext())
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    [line] = [line for line in lines if "_aws" in line]
    assert line[OLDEST_PENDING_AGE] == 120.0  # the older of the two
    assert line[FUNCTION_DIMENSION] == "stack-ScheduleFunction-1A2B"
    [directive] = line["_aws"]["CloudWatchMetrics"]
    assert directive == {
        "Namespace": NAMESPACE,
        "Dimensions": [[FUNCTION_DIMENSION]],
        "Metrics": [{"Name": OLDEST_PENDING_AGE, "Unit": "Seconds"}],
    }
    assert line["_aws"]["Timestamp"] == int(clock().timestamp() * 1000)


def test_a_failing_task_does_not_stop_the_others(
    entries: Entries,  # noqa: F811
    schedule: Callable[..., dict[str, int]],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ran: list[str] = []

    def broken(rt: Runtime, context: Any) -> int:
        raise RuntimeError("index unreachable")

    def fine(rt: Runtime, context: Any) -> int:
        ran.append("fine")
        return 1

    monkeypatch.setattr(entries.schedule, "TASKS", {"broken": broken, "fine": fine})
    with pytest.raises(entries.schedule.ScheduledTaskError, match="broken"):
        schedule()
    assert ran == ["fine"]
    assert "index unreachable" in caplog.text
