"""``GET /v1/notifications``: recent deliveries of outgoing events and their failures (operator)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal

from flask import Blueprint, Response, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bridge.api.access import require_operator, runtime
from bridge.api.errors import ApiError, fields_of

if TYPE_CHECKING:
    from bridge.notify.model import NotificationDelivery

blueprint = Blueprint("notifications", __name__)

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


@blueprint.get("/v1/notifications")
def notifications() -> Response:
    """Recent webhook and SNS deliveries, newest first (``?state=failed`` for failures)."""
    require_operator()
    values = {key: request.args.get(key) for key in request.args}
    try:
        params = NotificationParams.model_validate(values)
    except ValidationError as error:
        raise ApiError(
            "bad_request", "invalid query parameters", fields=fields_of(error)
        ) from error
    found = runtime().store.recent_notifications(limit=params.limit, state=params.state)
    return jsonify(listing(found).model_dump(mode="json"))
