"""Embedded metric format lines (bridge.metrics)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bridge.metrics import emf_line, pending_age_seconds
from bridge.ports import OutboxStats

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def test_nothing_pending_is_age_zero_and_a_clock_behind_never_negative() -> None:
    assert pending_age_seconds(OutboxStats(pending=0, oldest_created_at=None), NOW) == 0
    ahead = OutboxStats(pending=1, oldest_created_at=NOW + timedelta(seconds=5))
    assert pending_age_seconds(ahead, NOW) == 0
    waiting = OutboxStats(pending=2, oldest_created_at=NOW - timedelta(minutes=3))
    assert pending_age_seconds(waiting, NOW) == 180


def test_a_line_names_every_metric_and_carries_its_dimensions_at_the_top() -> None:
    line = json.loads(
        emf_line({"A": 1.5, "B": 2}, dimensions={"Function": "f"}, unit="Count", now=NOW)
    )
    assert line["A"] == 1.5
    assert line["B"] == 2
    assert line["Function"] == "f"
    [directive] = line["_aws"]["CloudWatchMetrics"]
    assert directive["Dimensions"] == [["Function"]]
    assert [m["Name"] for m in directive["Metrics"]] == ["A", "B"]
    assert line["_aws"]["Timestamp"] == 1_796_299_200_000
