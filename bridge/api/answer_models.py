"""Pydantic models of the routes no cold start answers first: the operator's (sync,
analysis, notifications), GitHub's webhook, the email links, and the error envelope.

Their views import them when they first run; :mod:`bridge.api.openapi` describes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from bridge.notify.email import tokens

if TYPE_CHECKING:
    from bridge.notify.model import NotificationDelivery


class ErrorBody(BaseModel):
    """What went wrong."""

    code: str
    message: str
    fields: dict[str, str] | None = None


class ErrorOut(BaseModel):
    """The error envelope."""

    error: ErrorBody


class SyncQueuedOut(BaseModel):
    """The reconciliation is queued; the worker runs it."""

    queued: bool = Field(description="always true")
    app: str | None = Field(description="the app to reconcile, or null for every app")


class SyncParams(BaseModel):
    """Query parameters of ``POST /v1/sync``."""

    app: str | None = Field(default=None, description="one app's id; every app when absent")


class WebhookAnswerOut(BaseModel):
    """How a GitHub delivery was taken: applied (or already applied), ignored, or a ping."""

    model_config = ConfigDict(extra="forbid")

    ok: bool = Field(description="always true")
    applied: bool | None = Field(default=None, description="false: this delivery was seen before")
    ignored: str | None = Field(default=None, description="why the delivery changed nothing")
    zen: str | None = Field(default=None, description="the ping's zen line")


class AnalysisQueuedOut(BaseModel):
    """The analysis is queued; its job posts (or edits) the comment."""

    queued: bool = Field(description="always true")
    app: str
    number: int


DeliveryStateParam = Literal["pending", "delivered", "failed"]


class NotificationParams(BaseModel):
    """Query parameters of the deliveries listing."""

    model_config = ConfigDict(extra="ignore")

    state: DeliveryStateParam | None = Field(
        default=None, description="only deliveries in this state; all when absent"
    )
    limit: Annotated[int, Field(ge=1, le=200)] = 50


class NotificationOut(BaseModel):
    """One event on its way to one target."""

    id: str
    event_id: str = Field(description="what receivers dedupe by (the JSON body's id)")
    app: str
    event: str = Field(description="request.created, request.status_changed or vote.milestone")
    destination: str = Field(description='the webhook\'s host, or "sns"')
    state: DeliveryStateParam = Field(
        description="pending (retried with backoff for 25 hours), delivered or failed"
    )
    attempts: int
    created_at: datetime
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None = Field(description="while pending")
    last_error: str | None


class NotificationList(BaseModel):
    """The latest deliveries, newest first."""

    deliveries: list[NotificationOut]


def listing(found: Sequence[NotificationDelivery]) -> NotificationList:
    """Deliveries from the index as operators see them (the route and the CLI)."""
    return NotificationList(
        deliveries=[
            NotificationOut(
                id=item.id,
                event_id=item.event_id,
                app=item.app,
                event=item.event,
                destination=item.destination,
                state=item.state,
                attempts=item.attempts,
                created_at=item.created_at,
                last_attempt_at=item.last_attempt_at,
                next_attempt_at=item.next_attempt_at if item.state == "pending" else None,
                last_error=item.last_error,
            )
            for item in found
        ]
    )


class LinkParams(BaseModel):
    """The query of an email's link."""

    model_config = ConfigDict(extra="ignore")

    token: str = Field(
        pattern=tokens.TOKEN_PATTERN,
        description="the signed token of the email's link (a forged one is 400)",
    )


class UnsubscribedOut(BaseModel):
    """The address gets no more emails from the app."""

    unsubscribed: bool


class ConfirmedOut(BaseModel):
    """Whether the address now gets the emails it asked for (false: it unsubscribed)."""

    confirmed: bool
