"""``GET /v1/notifications``: recent deliveries of outgoing events and their failures (operator)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from pydantic import ValidationError

from bridge.api.access import require_operator, runtime
from bridge.api.errors import ApiError, fields_of

blueprint = Blueprint("notifications", __name__)


@blueprint.get("/v1/notifications")
def notifications() -> Response:
    """Recent webhook and SNS deliveries, newest first (``?state=failed`` for failures)."""
    # The models load with the first call, not at start (cold starts).
    from bridge.api.answer_models import NotificationParams, listing

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
