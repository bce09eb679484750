"""Opting in: a submission's or a vote's ``notify``, kept as a subscriber following a topic.

An address from a voter token is trusted and followed at once; one typed by
someone without a token (or differing from the token's) waits for its owner
to confirm it, and gets one confirmation email when it is first seen, so
nobody can subscribe somebody else, nor have them sent a stream of requests.
"""

from __future__ import annotations

import json
import logging
from typing import Literal

from bridge.notify.email.model import (
    CONFIRM_EVENT,
    EMAIL_DESTINATION,
    Subscriber,
    new_subscriber_id,
    request_topic,
    submission_topic,
)
from bridge.notify.emit import notification_job
from bridge.notify.events import scrub
from bridge.notify.model import NotificationDelivery
from bridge.privacy.forget import normalised
from bridge.runtime import Runtime
from bridge.settings import AppConfig
from bridge.timeutil import to_sortable
from bridge.voters import Voter

log = logging.getLogger(__name__)

# What became of an opt-in: emails will come, a confirmation email went (or had gone)
# to the typed address, or there is nothing to email (email off, no address, unsubscribed).
OptInState = Literal["subscribed", "confirming", "unavailable"]


def opt_in(
    runtime: Runtime,
    app: AppConfig,
    *,
    voter: Voter | None,
    typed: str | None,
    topic: str,
    follower: str,
    title: str,
    number: int | None = None,
) -> OptInState:
    """Make ``follower`` (a voter key) follow ``topic`` by email, confirming a typed address.

    ``typed`` is an address given in the body; without one the voter token's
    is used. Never fails the vote or submission it comes with.
    """
    if not runtime.settings.notify.email.enabled:
        return "unavailable"
    trusted = _address(voter.email if voter is not None else None)
    address = _address(typed) or trusted
    if address is None or runtime.store.is_suppressed(address):
        return "unavailable"
    now = runtime.clock()
    candidate = Subscriber(
        id=new_subscriber_id(),
        app=app.id,
        address=address,
        confirmed=address == trusted,
        created_at=now,
    )
    subscriber, created = runtime.store.subscribe(candidate, topic=topic, voter=follower)
    if subscriber.active:
        return "subscribed"
    if subscriber.unsubscribed:
        return "unavailable"
    if created:
        queue_confirmation(runtime, app, subscriber, title=title, number=number)
    return "confirming"


def duplicate_merged(
    runtime: Runtime, app: str, duplicate: int, original: int, *, submission_id: str | None
) -> None:
    """A duplicate's voters moved to its original: its followers follow the original too."""
    if not runtime.settings.notify.email.enabled:
        return
    topics = [request_topic(duplicate)]
    if submission_id:
        topics.append(submission_topic(submission_id))
    runtime.store.copy_follows(app, topics, request_topic(original))


def _address(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return normalised(value)
    except ValueError:
        return None


def confirmation_body(app: AppConfig, *, title: str, number: int | None) -> str:
    """The JSON a confirmation delivery carries: no address, the title scrubbed of any."""
    body = {
        "type": CONFIRM_EVENT,
        "app": {"id": app.id, "name": app.name},
        "request": {"number": number, "title": scrub(title)},
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def queue_confirmation(
    runtime: Runtime, app: AppConfig, subscriber: Subscriber, *, title: str, number: int | None
) -> None:
    """Queue the one email that asks the address's owner to confirm it."""
    now = runtime.clock()
    delivery = NotificationDelivery(
        id=f"{to_sortable(now)}#confirm_{subscriber.id}#{subscriber.target}",
        event_id=f"confirm_{subscriber.id}",
        app=app.id,
        event=CONFIRM_EVENT,
        target=subscriber.target,
        destination=EMAIL_DESTINATION,
        body=confirmation_body(app, title=title, number=number),
        created_at=now,
        next_attempt_at=now,
    )
    if runtime.store.add_notification(delivery):
        runtime.queue.enqueue(notification_job(delivery.id))
        log.info("confirmation email queued", extra={"event": "notify", "app": app.id})
