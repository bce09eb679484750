"""The records and ports of outgoing events: one delivery per event and target."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Protocol

from msgspec import Struct

DeliveryState = Literal["pending", "delivered", "failed"]
SNS_TARGET = "sns"


class NotificationDelivery(Struct, frozen=True):
    """One event on its way to one target (a webhook or the SNS topic), kept in the index.

    ``id`` orders deliveries by creation and is opaque to callers. ``target`` is
    ``sns`` or a webhook's key; ``destination`` is what operators are shown (a
    host, never a URL: a Slack webhook's path is its secret). ``body`` is the
    event's JSON, which holds no personal data.
    """

    id: str
    event_id: str
    app: str
    event: str
    target: str
    destination: str
    body: str
    created_at: datetime
    next_attempt_at: datetime
    attempts: int = 0
    state: DeliveryState = "pending"
    last_error: str | None = None
    last_attempt_at: datetime | None = None


class DeliveryError(Exception):
    """A target did not take an event; ``retry_after`` is the receiver's own hint (seconds)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TargetRefusedError(DeliveryError):
    """The target may never be reached (it resolves to a private or metadata address)."""


class AddressRefusedError(TargetRefusedError):
    """The mail service refused the recipient's address: never email it again."""


class EventPublisher(Protocol):
    """A topic that takes every domain event (SNS on AWS)."""

    def publish(self, *, app: str, event: str, body: str) -> None:
        """Publish one event; raises DeliveryError."""
        ...


class WebhookPoster(Protocol):
    """Sends one HTTP POST to a receiver, SSRF-checked."""

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> None:
        """POST ``body``; raises DeliveryError (TargetRefusedError for a forbidden target)."""
        ...
