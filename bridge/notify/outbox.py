"""Delivering events: one job per attempt, rescheduled with backoff for more than a day.

Retries are the bridge's own (a job queued again with a delay, and the
sweep for any a queue lost), never the queue's redelivery, which gives up
after a few receives. Each attempt leases its delivery, so a delivery queued
twice is sent once; a receiver that is down costs one short attempt per
backoff step and holds up nothing else.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from msgspec.structs import replace

from bridge.notify.emit import notification_job
from bridge.notify.model import DeliveryError, TargetRefusedError
from bridge.runtime import Runtime

log = logging.getLogger(__name__)

FIRST_DELAY_SECONDS = 30.0
MAX_DELAY_SECONDS = 3600.0
# Retried for at least a day: a delivery fails for good only when a failure
# comes this long after it was created.
RETRY_WINDOW = timedelta(hours=25)
LEASE = timedelta(seconds=60)
SWEEP_BATCH = 50


def backoff(attempts: int, *, rand: Callable[[], float] = random.random) -> float:
    """Seconds before the next attempt after ``attempts`` failed ones: 30 s doubling to 1 h,
    drawn from the upper half so receivers coming back are not hit in lockstep."""
    ceiling = min(MAX_DELAY_SECONDS, FIRST_DELAY_SECONDS * 2 ** max(attempts - 1, 0))
    return float(ceiling * (0.5 + rand() / 2))


def deliver_notification(runtime: Runtime, payload: dict[str, Any]) -> None:
    """The ``deliver_notification`` job: one attempt at one delivery."""
    attempt(runtime, str(payload["delivery"]))


def attempt(runtime: Runtime, delivery_id: str) -> str | None:
    """Try one delivery once; its state afterwards (None: not due, or taken by another)."""
    notifications = runtime.notifications
    if notifications is None:
        return None
    now = runtime.clock()
    claimed = runtime.store.claim_notification(delivery_id, now=now, lease_until=now + LEASE)
    if claimed is None:
        return None
    tried = replace(claimed, attempts=claimed.attempts + 1, last_attempt_at=now)
    where = f"{claimed.event} of {claimed.app} to {claimed.destination}"
    try:
        notifications.send(claimed, now=now)
    except TargetRefusedError as error:
        log.warning("%s refused: %s", where, error)
        runtime.store.save_notification(replace(tried, state="failed", last_error=str(error)))
        return "failed"
    except DeliveryError as error:
        if now - claimed.created_at >= RETRY_WINDOW:
            log.warning("%s failed for good after %d attempts: %s", where, tried.attempts, error)
            runtime.store.save_notification(replace(tried, state="failed", last_error=str(error)))
            return "failed"
        delay = max(backoff(tried.attempts), error.retry_after or 0.0)
        log.info("%s failed (attempt %d), next in %.0f s: %s", where, tried.attempts, delay, error)
        runtime.store.save_notification(
            replace(
                tried,
                state="pending",
                last_error=str(error),
                next_attempt_at=now + timedelta(seconds=delay),
            )
        )
        runtime.queue.enqueue(notification_job(delivery_id), delay_seconds=delay)
        return "pending"
    runtime.store.save_notification(replace(tried, state="delivered", last_error=None))
    return "delivered"


def sweep_notifications(runtime: Runtime, *, limit: int = SWEEP_BATCH) -> int:
    """Queue every due delivery (a queue may have lost it, or its delay outlasted the
    queue's longest); the worker's lease keeps a delivery queued twice from going twice."""
    if runtime.notifications is None:
        return 0
    due = runtime.store.due_notifications(now=runtime.clock(), limit=limit)
    for delivery_id in due:
        runtime.queue.enqueue(notification_job(delivery_id))
    return len(due)
