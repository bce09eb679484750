"""Metrics as log lines in CloudWatch's embedded metric format (EMF).

On Lambda a line written to standard output that holds an ``_aws`` block
becomes a CloudWatch metric when CloudWatch Logs ingests it: no API call on any
path, no ``cloudwatch:PutMetricData`` grant, nothing to import. The schedule
writes one such line per run (``lambda/schedule_entry.py``), which the stack's
``OldestPendingAlarm`` watches; the names here and the template's must agree.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime

from bridge.ports import OutboxStats

NAMESPACE = "FeatureBridge"
OLDEST_PENDING_AGE = "OldestPendingSubmissionAge"
FUNCTION_DIMENSION = "Function"


def emf_line(
    values: Mapping[str, float],
    *,
    dimensions: Mapping[str, str],
    unit: str,
    now: datetime,
    namespace: str = NAMESPACE,
) -> str:
    """One JSON object carrying ``values`` (all in ``unit``) as metrics of ``namespace``."""
    return json.dumps(
        {
            "_aws": {
                "Timestamp": int(now.timestamp() * 1000),
                "CloudWatchMetrics": [
                    {
                        "Namespace": namespace,
                        "Dimensions": [sorted(dimensions)],
                        "Metrics": [{"Name": name, "Unit": unit} for name in values],
                    }
                ],
            },
            **dimensions,
            **values,
        },
        separators=(",", ":"),
    )


def pending_age_seconds(stats: OutboxStats, now: datetime) -> float:
    """Seconds the oldest submission not yet on GitHub has waited; 0 when none waits."""
    if stats.pending == 0 or stats.oldest_created_at is None:
        return 0.0
    return max(0.0, round((now - stats.oldest_created_at).total_seconds(), 1))


def oldest_pending_line(stats: OutboxStats, *, now: datetime, function: str) -> str:
    """The schedule's line: the oldest pending submission's age, per function."""
    return emf_line(
        {OLDEST_PENDING_AGE: pending_age_seconds(stats, now)},
        dimensions={FUNCTION_DIMENSION: function},
        unit="Seconds",
        now=now,
    )
