"""``POST /github/webhooks``: verify, parse, route, apply once per delivery."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from flask import Blueprint, Response, jsonify, request

from bridge.api.access import runtime
from bridge.api.body import read_raw
from bridge.api.errors import ApiError
from bridge.logs import bind
from bridge.untrusted import loads

if TYPE_CHECKING:
    from github_app.webhooks import WebhookEvent

log = logging.getLogger(__name__)

blueprint = Blueprint("github", __name__)

WEBHOOK_BODY_LIMIT = 5 * 1024 * 1024


@blueprint.post("/github/webhooks")
def receive() -> tuple[Response, int]:
    """Answer GitHub fast; the effect and the delivery id are stored together."""
    # The event handlers (and what they import) load with the first delivery, not at start.
    from bridge.github_events import follow_ups, router
    from bridge.notify.emit import record_changes
    from github_app.mapping import PayloadError
    from github_app.webhooks import WebhookEvent, verify_signature

    # Webhooks may be far larger than API bodies; read one byte past the limit to see it.
    request.max_content_length = WEBHOOK_BODY_LIMIT + 1
    name = request.headers.get("X-GitHub-Event", "")
    delivery_id = request.headers.get("X-GitHub-Delivery", "")
    # For the rest of this request (the request log's teardown restores the context).
    bind(delivery_id=delivery_id[:64] or None, github_event=name[:64] or None)
    signature = request.headers.get("X-Hub-Signature-256", "")
    if not signature:
        # Missing or empty: the delivery is unsigned, which is a matter of authentication.
        raise ApiError(
            "unauthorized",
            "X-Hub-Signature-256 is required",
            fields={"X-Hub-Signature-256": "required"},
        )
    missing = {
        header: "required"
        for header, value in (("X-GitHub-Event", name), ("X-GitHub-Delivery", delivery_id))
        if not value
    }
    if missing:
        raise ApiError("bad_request", "not a GitHub webhook delivery", fields=missing)
    body = read_raw(WEBHOOK_BODY_LIMIT)
    rt = runtime()
    secrets = [
        secret
        for secret in (
            rt.settings.secrets.get("GITHUB_WEBHOOK_SECRET"),
            rt.settings.secrets.get("GITHUB_WEBHOOK_SECRET_PREVIOUS"),
        )
        if secret
    ]
    if not secrets:
        raise ApiError("unavailable", "GITHUB_WEBHOOK_SECRET is not configured")
    if not verify_signature(body, signature, secrets):
        raise ApiError("unauthorized", "X-Hub-Signature-256 does not match the body")
    event = WebhookEvent(name=name, delivery_id=delivery_id, payload=_payload(body))
    if name == "ping":
        zen = event.payload.get("zen")
        return _answer(200, zen=zen if isinstance(zen, str) else None)
    bot = rt.tracker.actor_login()
    if bot is not None and event.sender_login == bot:
        return _ignored(event, "sent by the bridge itself")
    handler = router.handler_for(event)
    if handler is None:
        return _ignored(event, "no handler for this event")
    try:
        changes = handler(rt, event)
    except (PayloadError, KeyError, TypeError, ValueError) as error:
        raise ApiError(
            "validation_failed", f"{name}.{event.action}: payload not understood: {error}"
        ) from error
    applied = record_changes(rt, changes, delivery_id=delivery_id)
    if applied:
        for job in follow_ups(rt, event):
            rt.queue.enqueue(job)
    return _answer(200, applied=applied)


def _payload(body: bytes) -> dict[str, Any]:
    # GitHub sends JSON, or payload=<json> when the hook's content type is form.
    text = body.decode("utf-8", errors="replace")
    if request.mimetype == "application/x-www-form-urlencoded":
        text = (parse_qs(text).get("payload") or [""])[0]
    try:
        payload = loads(text)
    except ValueError as error:
        raise ApiError("bad_request", f"webhook body is not JSON: {error}") from error
    if not isinstance(payload, dict):
        raise ApiError("bad_request", "webhook body must be a JSON object")
    return payload


def _ignored(event: WebhookEvent, why: str) -> tuple[Response, int]:
    log.info(
        "webhook %s %s.%s ignored: %s",
        event.delivery_id,
        event.name,
        event.action,
        why,
        extra={"event": "webhook", "outcome": "ignored"},
    )
    return _answer(202, ignored=why)


def _answer(status: int, **fields: object) -> tuple[Response, int]:
    from bridge.api.answer_models import WebhookAnswerOut

    answer = WebhookAnswerOut.model_validate({"ok": True, **fields})
    return jsonify(answer.model_dump(exclude_none=True)), status
