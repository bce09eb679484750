"""Who hears of an event by email, and sending one email delivery.

:class:`EmailNotifier` is built once by the wiring point when ``[notify.email]
sender`` is set. For a status change it names one delivery per follower of the
request (its voters who opted in and its submitter), each subscriber once; the
event's claim in the index makes that once per change whether a webhook, a
sync or both saw it. At send time it reads the subscriber again, so an address
unsubscribed, suppressed or forgotten meanwhile gets nothing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bridge.notify.email import render, tokens
from bridge.notify.email.model import (
    CONFIRM_EVENT,
    EMAIL_DESTINATION,
    MailSender,
    Subscriber,
    request_topic,
    submission_topic,
    subscriber_of_target,
)
from bridge.notify.events import Event
from bridge.notify.model import AddressRefusedError, NotificationDelivery, TargetRefusedError
from bridge.ports import IndexStore
from bridge.settings import Settings

log = logging.getLogger(__name__)

STATUS_EVENT = "request.status_changed"


def unsubscribe_url(public_url: str, key: bytes, subscriber_id: str) -> str:
    """The one-click link of every email to this subscriber."""
    return (
        f"{public_url}/v1/unsubscribe?token={tokens.sign(key, tokens.UNSUBSCRIBE, subscriber_id)}"
    )


def confirm_url(public_url: str, key: bytes, subscriber_id: str) -> str:
    """The link that confirms a typed address."""
    token = tokens.sign(key, tokens.CONFIRM, subscriber_id)
    return f"{public_url}/v1/confirm?token={token}"


class EmailNotifier:
    """Email targets of events, and the sending of email deliveries."""

    def __init__(
        self,
        settings: Settings,
        *,
        store: IndexStore,
        key: Callable[[], bytes],
        sender: MailSender,
    ) -> None:
        self._settings = settings
        self._store = store
        self._key = key
        self.sender = sender

    def targets(self, event: Event) -> list[tuple[str, str]]:
        """``(target, destination)`` of each follower a status change is emailed to."""
        if event.type != STATUS_EVENT:
            return []
        request = self._store.get_request(event.app, event.number)
        topics = [request_topic(event.number)]
        if request is not None and request.submission_id:
            topics.append(submission_topic(request.submission_id))
        return [(s.target, EMAIL_DESTINATION) for s in self._store.followers(event.app, topics)]

    def send(self, delivery: NotificationDelivery, *, now: datetime) -> None:
        """Render and send one email delivery; DeliveryError (TargetRefusedError: never again)."""
        subscriber = self._recipient(delivery)
        key = self._key()
        public = self._settings.server.public_url
        unsubscribe = unsubscribe_url(public, key, subscriber.id)
        body: dict[str, Any] = json.loads(delivery.body)
        app_name = str(body["app"]["name"])
        request = body["request"]
        if delivery.event == CONFIRM_EVENT:
            email = render.confirm_email(
                app_name=app_name,
                title=str(request["title"]),
                confirm=confirm_url(public, key, subscriber.id),
                unsubscribe=unsubscribe,
            )
        else:
            app = self._settings.app(delivery.app)
            email = render.status_email(
                app_name=app_name,
                title=str(request["title"]),
                status=str(request["status"]),
                previous=body.get("previous_status"),
                link=str(request["url"]),
                roadmap=f"{public}/apps/{delivery.app}/roadmap" if app and app.public else None,
                unsubscribe=unsubscribe,
            )
        raw = render.mime(
            email,
            sender=self._settings.notify.email.sender or "",
            to=subscriber.address,
            unsubscribe=unsubscribe,
            now=now,
        )
        try:
            self.sender.send(to=subscriber.address, raw=raw)
        except AddressRefusedError:
            self._store.suppress_address(subscriber.address, reason="rejected", now=now)
            raise
        log.info(
            "email %s sent",
            delivery.event,
            extra={"event": "email", "app": delivery.app, "subscriber": subscriber.id},
        )

    def _recipient(self, delivery: NotificationDelivery) -> Subscriber:
        subscriber_id = subscriber_of_target(delivery.target)
        found = self._store.get_subscriber(subscriber_id) if subscriber_id else None
        if found is None or "@" not in found.address:
            raise TargetRefusedError("no such subscriber (forgotten?)")
        if found.unsubscribed:
            raise TargetRefusedError("unsubscribed")
        if delivery.event == CONFIRM_EVENT and found.confirmed:
            raise TargetRefusedError("already confirmed")
        if delivery.event != CONFIRM_EVENT and not found.confirmed:
            raise TargetRefusedError("address not confirmed")
        if self._store.is_suppressed(found.address):
            raise TargetRefusedError("address suppressed (bounced, complained or refused)")
        return found
