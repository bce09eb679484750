"""Where each event goes, and how a delivery reaches its target.

:class:`Notifications` is built once by the wiring point (``build_runtime``)
from settings: the app's webhooks, plus the SNS topic when one is
configured. It renders each delivery for its target at send time (a JSON
delivery is signed with the attempt's timestamp) and hands it to the ports.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from bridge.notify.config import EventType, WebhookConfig
from bridge.notify.email.model import EMAIL_TARGET_PREFIX
from bridge.notify.formats import json_request, slack_request
from bridge.notify.model import (
    SNS_TARGET,
    DeliveryError,
    EventPublisher,
    NotificationDelivery,
    TargetRefusedError,
    WebhookPoster,
)
from bridge.settings import AppConfig, Settings

if TYPE_CHECKING:
    from bridge.notify.email.sending import EmailNotifier
    from bridge.notify.events import Event


class Notifications:
    """The targets of every app's events and the adapters that reach them."""

    def __init__(
        self,
        settings: Settings,
        *,
        poster: WebhookPoster,
        publisher: EventPublisher | None = None,
        secret: Callable[[str], str | None] | None = None,
        email: EmailNotifier | None = None,
    ) -> None:
        self._settings = settings
        self.poster = poster
        self.publisher = publisher
        self.email = email
        self._secret = secret or settings.secrets.get

    def targets(self, app: AppConfig, event: EventType) -> list[tuple[str, str]]:
        """``(target, destination)`` of each place this event of this app goes."""
        found = [(hook.key, hook.host) for hook in app.notify.webhooks if event in hook.events]
        if self.publisher is not None:
            found.append((SNS_TARGET, SNS_TARGET))
        return found

    def recipients(self, event: Event) -> list[tuple[str, str]]:
        """``(target, destination)`` of each person the event is emailed to (email on)."""
        return self.email.targets(event) if self.email is not None else []

    def send(self, delivery: NotificationDelivery, *, now: datetime) -> None:
        """Deliver once; raises DeliveryError (TargetRefusedError: never try again)."""
        if delivery.target.startswith(EMAIL_TARGET_PREFIX):
            if self.email is None:
                raise TargetRefusedError("email is no longer configured")
            self.email.send(delivery, now=now)
            return
        if delivery.target == SNS_TARGET:
            if self.publisher is None:
                raise TargetRefusedError("the SNS topic is no longer configured")
            self.publisher.publish(app=delivery.app, event=delivery.event, body=delivery.body)
            return
        hook = self._webhook(delivery)
        if hook.format == "slack":
            body, headers = slack_request(delivery.body)
        else:
            secret = self._secret(hook.secret_env or "")
            if not secret:
                raise DeliveryError(f"secret_env {hook.secret_env} is not set")
            stamp = int(now.timestamp())
            body, headers = json_request(delivery.body, secret=secret, timestamp=stamp)
        self.poster.post(hook.url, body, headers)

    def _webhook(self, delivery: NotificationDelivery) -> WebhookConfig:
        app = self._settings.app(delivery.app)
        for hook in app.notify.webhooks if app is not None else ():
            if hook.key == delivery.target:
                return hook
        raise TargetRefusedError("the webhook is no longer configured")
