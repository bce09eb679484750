"""``[server] retain_personal_days``: submitters' emails and names dropped after that long,
and email subscribers' addresses once their subscription ends.

A job (``serve`` runs it every few hours, the Lambda schedule once a day) asks
the store to drop the email and name of every submission older than the
cut-off. Nothing else changes: the request, its votes and its issue stay.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from bridge.ports import Job
from bridge.runtime import Runtime

log = logging.getLogger(__name__)

DROP_EXPIRED_PERSONAL_DATA = "drop_expired_personal_data"
# How often serve's worker runs it: often enough that nothing outlives its day by much.
SERVE_INTERVAL_SECONDS = 6 * 3600.0


def retention_job() -> Job:
    """The job that drops personal data past its retention."""
    return Job(DROP_EXPIRED_PERSONAL_DATA)


def drop_expired_personal_data(runtime: Runtime, _: dict[str, Any]) -> None:
    """Drop submitters' emails and names older than ``retain_personal_days`` (if set)."""
    days = runtime.settings.server.retain_personal_days
    if days is None:
        return
    before = runtime.clock() - timedelta(days=days)
    dropped = runtime.store.drop_personal_data(before=before)
    # Email subscribers keep their address while subscribed; it goes when that ends.
    ended = runtime.store.drop_ended_subscriptions(before=before)
    log.info(
        "dropped the email and name of %d submission(s) older than %d days and %d ended"
        " email subscription(s)",
        dropped,
        days,
        ended,
        extra={"event": "retention", "dropped": dropped, "subscriptions": ended},
    )


def due_on_schedule(now: datetime, interval_minutes: int) -> bool:
    """Whether a schedule ticking every ``interval_minutes`` should run it now: the first
    tick after midnight UTC, so once a day (a full table scan on DynamoDB)."""
    return now.hour == 0 and now.minute < interval_minutes
