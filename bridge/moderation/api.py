"""The moderation routes (SPEC §4): the review queue for operators, render tokens for forms."""

from __future__ import annotations

import re

from flask import Blueprint, Response, jsonify, request
from pydantic import ValidationError

from bridge.api.access import app_or_404, limit_reads, require_operator, runtime
from bridge.api.body import read_body
from bridge.api.cors import install_cors
from bridge.api.cursor import decode_cursor, encode_cursor
from bridge.api.errors import ApiError, fields_of, refusals
from bridge.domain import SUBMISSION_ID_PATTERN, Hold, OperatorAction
from bridge.ports import InvalidCursorError

# The routes' models and rules load with their first call: a cold start answering
# another route builds none of them.
moderation = Blueprint("moderation", __name__)
public = Blueprint("moderation_public", __name__)
install_cors(public)

SUBMISSION_ID = re.compile(SUBMISSION_ID_PATTERN)


@moderation.get("/v1/apps/<app_id>/moderation")
def review_queue(app_id: str) -> Response:
    """Submissions held for review (or rejected), oldest first, with their signals."""
    from bridge.moderation.models import ReviewListOut, ReviewParams, review_item

    require_operator()
    app = app_or_404(app_id)
    try:
        params = ReviewParams.model_validate(dict(request.args.items()))
    except ValidationError as error:
        raise ApiError(
            "bad_request", "invalid query parameters", fields=fields_of(error)
        ) from error
    binding = f"moderation|{app.id}|{params.state}"
    try:
        position = decode_cursor(params.cursor, binding) if params.cursor else None
        page = runtime().store.held_submissions(
            app.id, Hold(params.state), limit=params.limit, cursor=position
        )
    except InvalidCursorError as error:
        raise ApiError("bad_request", str(error), fields={"cursor": str(error)}) from error
    body = ReviewListOut(
        items=[review_item(submission) for submission in page.items],
        next_cursor=encode_cursor(page.next_cursor, binding) if page.next_cursor else None,
    )
    return jsonify(body.model_dump(mode="json"))


def _decide(app_id: str, submission_id: str, action: OperatorAction) -> Response:
    from bridge.moderation.decisions import apply_decision
    from bridge.moderation.models import DecisionIn, review_item

    require_operator()
    app = app_or_404(app_id)
    if not SUBMISSION_ID.match(submission_id):
        raise ApiError("not_found", f"no submission {submission_id!r} in app {app.id!r}")
    raw = read_body(allow_form=False) if request.content_length or request.mimetype else {}
    try:
        decision = DecisionIn.model_validate(raw)
    except ValidationError as error:
        raise ApiError(
            "validation_failed", "the request has invalid fields", fields=fields_of(error)
        ) from error
    with refusals(f"no submission {submission_id!r} in app {app.id!r}"):
        after = apply_decision(
            runtime(), app.id, submission_id, action, by="api", reason=decision.reason or None
        )
    return jsonify(review_item(after).model_dump(mode="json"))


@moderation.post("/v1/apps/<app_id>/moderation/<submission_id>/approve")
def approve(app_id: str, submission_id: str) -> Response:
    """Approve a held submission: it is delivered as usual (once); a repeat changes nothing."""
    return _decide(app_id, submission_id, OperatorAction.APPROVE)


@moderation.post("/v1/apps/<app_id>/moderation/<submission_id>/reject")
def reject(app_id: str, submission_id: str) -> Response:
    """Reject a held submission: kept, marked rejected, never sent; a repeat changes nothing."""
    return _decide(app_id, submission_id, OperatorAction.REJECT)


@public.get("/v1/apps/<app_id>/form-token")
def issue_form_token(app_id: str) -> Response:
    """A signed render time for the widget (the hosted form has one in its page)."""
    from bridge.moderation import form_token
    from bridge.moderation.models import FormTokenOut

    # Any app's widget may submit, public or not, so any app's may have a token.
    app = app_or_404(app_id)
    limit_reads(app)
    rt = runtime()
    body = FormTokenOut(form_token=form_token.issue(rt.signing_key(), app.id, rt.clock()))
    response = jsonify(body.model_dump())
    response.headers["Cache-Control"] = "no-store"
    return response
