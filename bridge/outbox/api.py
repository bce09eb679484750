"""``/v1/outbox``: the delivery pipeline for operators (SPEC §4)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from pydantic import ValidationError

from bridge.api.access import require_operator, runtime
from bridge.api.body import read_body
from bridge.api.cursor import decode_cursor, encode_cursor
from bridge.api.errors import ApiError, fields_of, refusals
from bridge.moderation.api import SUBMISSION_ID
from bridge.ports import InvalidCursorError

# The routes' models and rules load with their first call (see bridge.moderation.api).
blueprint = Blueprint("outbox", __name__)


@blueprint.get("/v1/outbox")
def listing() -> Response:
    """One state of the pipeline, a page at a time."""
    from bridge.outbox.listing import outbox_page
    from bridge.outbox.models import OutboxListOut, OutboxParams, outbox_item

    require_operator()
    try:
        params = OutboxParams.model_validate(dict(request.args.items()))
    except ValidationError as error:
        raise ApiError(
            "bad_request", "invalid query parameters", fields=fields_of(error)
        ) from error
    rt = runtime()
    apps = [app.id for app in rt.settings.apps if params.app in (None, app.id)]
    if params.app is not None and not apps:
        raise ApiError("not_found", f"no app {params.app!r}")
    binding = f"outbox|{params.state}|{params.app or ''}"
    try:
        position = decode_cursor(params.cursor, binding) if params.cursor else None
        page = outbox_page(rt.store, params.state, apps=apps, limit=params.limit, cursor=position)
    except InvalidCursorError as error:
        raise ApiError("bad_request", str(error), fields={"cursor": str(error)}) from error
    body = OutboxListOut(
        items=[outbox_item(s) for s in page.items if params.app is None or s.app == params.app],
        next_cursor=encode_cursor(page.next_cursor, binding) if page.next_cursor else None,
    )
    return jsonify(body.model_dump(mode="json"))


def _act(submission_id: str, action: str, reason: str | None = None) -> Response:
    from bridge.outbox.actions import act
    from bridge.outbox.models import outbox_item

    if not SUBMISSION_ID.match(submission_id):
        raise ApiError("not_found", f"no submission {submission_id!r}")
    with refusals(f"no submission {submission_id!r}"):
        after = act(runtime(), submission_id, action, by="api", reason=reason)
    return jsonify(outbox_item(after).model_dump(mode="json"))


@blueprint.post("/v1/outbox/<submission_id>/retry")
def retry_now(submission_id: str) -> Response:
    """Retry a dead (or backing-off) delivery now; a repeat keeps it due."""
    require_operator()
    return _act(submission_id, "retry")


@blueprint.delete("/v1/outbox/<submission_id>")
def cancel_one(submission_id: str) -> Response:
    """Cancel a submission that has not reached GitHub: kept, marked cancelled, never sent."""
    from bridge.outbox.models import CancelIn

    require_operator()
    raw = read_body(allow_form=False) if request.content_length or request.mimetype else {}
    try:
        body = CancelIn.model_validate(raw)
    except ValidationError as error:
        raise ApiError(
            "validation_failed", "the request has invalid fields", fields=fields_of(error)
        ) from error
    return _act(submission_id, "cancel", body.reason or None)
