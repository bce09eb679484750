"""Announcing events: the narrow calls the rest of the bridge makes, and the claim in the index.

Each hook is one call where the index changes: a delivered submission
(:func:`request_delivered`), changes from GitHub by webhook or sync
(:func:`record_changes`, which applies them), a vote (:func:`vote_recorded`).
An event is claimed once in the index by its key, then stored as one
delivery per target and queued; a failure here is logged and never fails
the change that caused it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from bridge.domain import Request
from bridge.notify.events import Event, change_events, created, encode, milestone_events
from bridge.notify.model import NotificationDelivery
from bridge.ports import GitHubChanges, Job, StoreError
from bridge.runtime import Runtime
from bridge.timeutil import to_sortable

log = logging.getLogger(__name__)

DELIVER_NOTIFICATION = "deliver_notification"
# A status change is claimed long enough to cover any webhook and sync racing over it.
STATUS_CLAIM = timedelta(days=7)
# Created and milestone events are once ever; their claims outlive any request.
ONCE_CLAIM = timedelta(days=3650)


def notification_job(delivery_id: str) -> Job:
    """The job that makes one attempt at one delivery."""
    return Job(DELIVER_NOTIFICATION, {"delivery": delivery_id})


def announce(runtime: Runtime, events: Sequence[Event]) -> int:
    """Claim each event and queue its deliveries; return how many deliveries were queued."""
    notifications = runtime.notifications
    if notifications is None or not events:
        return 0
    queued = 0
    now = runtime.clock()
    try:
        for event in events:
            queued += _announce(runtime, event, now)
    except StoreError as error:
        log.warning("events not announced: %s", error)
    return queued


def _announce(runtime: Runtime, event: Event, now: datetime) -> int:
    notifications = runtime.notifications
    app = runtime.settings.app(event.app)
    if notifications is None or app is None:
        return 0
    targets = notifications.targets(app, event.type) + notifications.recipients(event)
    if not targets:
        return 0
    horizon = ONCE_CLAIM if event.once_ever else STATUS_CLAIM
    if not runtime.store.claim_event(event.key, now=now, expires_at=now + horizon):
        return 0
    body = encode(event.body(app.name))
    queued = 0
    for target, destination in targets:
        delivery = NotificationDelivery(
            id=f"{to_sortable(now)}#{event.id}#{target}",
            event_id=event.id,
            app=event.app,
            event=event.type,
            target=target,
            destination=destination,
            body=body,
            created_at=now,
            next_attempt_at=now,
        )
        if runtime.store.add_notification(delivery):
            runtime.queue.enqueue(notification_job(delivery.id))
            queued += 1
    log.info(
        "event %s of %s#%d: %d delivery(ies)",
        event.type,
        event.app,
        event.number,
        queued,
        extra={"event": "notify", "app": event.app, "number": event.number},
    )
    return queued


def request_delivered(runtime: Runtime, request: Request) -> None:
    """A submission became an issue: ``request.created``."""
    if runtime.notifications is not None:
        announce(runtime, [created(request, runtime.clock())])


def vote_recorded(runtime: Runtime, request: Request, *, new: bool) -> None:
    """A vote was counted (``request`` as it is afterwards): milestones it passed."""
    if runtime.notifications is not None and new:
        now = runtime.clock()
        announce(runtime, milestone_events(request, request.total_votes - 1, now))


def votes_moved(runtime: Runtime, app_id: str, number: int, *, gained: int) -> None:
    """A duplicate's voters moved to request ``number``: milestones it passed."""
    if runtime.notifications is None or gained <= 0:
        return
    request = runtime.store.get_request(app_id, number)
    if request is not None:
        now = runtime.clock()
        announce(runtime, milestone_events(request, request.total_votes - gained, now))


def record_changes(runtime: Runtime, changes: GitHubChanges, *, delivery_id: str | None) -> bool:
    """Apply changes from GitHub (``IndexStore.record_github_changes``) and announce them.

    The index is read before the changes go in, only while notifications are
    on; a change the store refuses as older than what it holds announces nothing.
    """
    now = runtime.clock()
    before: dict[tuple[str, int], Request | None] = {}
    if runtime.notifications is not None:
        for fresh in changes.synced:
            before[(fresh.app, fresh.number)] = runtime.store.get_request(fresh.app, fresh.number)
    applied = runtime.store.record_github_changes(changes, delivery_id=delivery_id, now=now)
    if applied and before:
        events: list[Event] = []
        for fresh in changes.synced:
            old = before[(fresh.app, fresh.number)]
            if old is None or fresh.updated_at >= old.updated_at:
                events.extend(change_events(old, fresh, now))
        announce(runtime, events)
    return applied
