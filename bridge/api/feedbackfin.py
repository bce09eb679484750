"""A drop-in receiver for the Feedback Fin widget: its own JSON, filed as a request.

Feedback Fin posts ``{...config.user, feedbackType, message, timestamp}`` from
the visitor's browser, so the route takes the widget's CORS, Origin check and
submission rate limit. The widget shows success whatever the answer: a post that
is not filed still gets a 2xx saying why, for whoever reads the network panel.
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, jsonify
from pydantic import ValidationError

from bridge.api.access import app_or_404, client_key, enforce_rate_limit, runtime
from bridge.api.body import read_body
from bridge.api.cors import install_cors, refuse_foreign_origin
from bridge.api.errors import ApiError, fields_of
from bridge.api.google_forms import TITLE_MAX
from bridge.api.submitting import accept_and_answer
from bridge.domain import Source, SubmissionContent

blueprint = Blueprint("feedbackfin", __name__)
install_cors(blueprint)

KEY_PREFIX = "feedbackfin:"
ELLIPSIS = "…"
NAME_MAX = 100


def split_message(message: str) -> tuple[str, str]:
    """The title (the first line, at most ``TITLE_MAX``) and the description (the rest).

    A first line too long to be a title is cut at a word and kept whole in the
    description, so nothing the visitor wrote is lost.
    """
    text = message.strip()
    first, _, rest = text.partition("\n")
    first, rest = first.strip(), rest.strip()
    if len(first) <= TITLE_MAX:
        return first, rest
    cut = first[: TITLE_MAX - len(ELLIPSIS)]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip() + ELLIPSIS, text


@blueprint.post("/v1/apps/<app_id>/feedbackfin")
def feedbackfin_post(app_id: str) -> tuple[Response, int] | Response:
    """File an idea from Feedback Fin (201/202); other feedback types are answered 200."""
    from bridge.api.write_models import EMAIL_PATTERN, FeedbackFinIgnoredOut, FeedbackFinPostIn
    from bridge.submissions import fingerprint

    app = app_or_404(app_id)
    refuse_foreign_origin(app)
    try:
        post = FeedbackFinPostIn.model_validate(read_body(allow_form=False))
    except ValidationError as error:
        raise ApiError(
            "validation_failed", "the Feedback Fin post has invalid fields", fields=fields_of(error)
        ) from error
    if post.feedbackType not in app.feedbackfin_types:
        filed = ", ".join(app.feedbackfin_types)
        ignored = FeedbackFinIgnoredOut(
            message=f"feedbackType {post.feedbackType!r} is not filed here (only {filed})"
        )
        return jsonify(ignored.model_dump())
    if app.require_voter_token:
        # The widget carries no voter token, so such an app cannot take its posts.
        raise ApiError("unauthorized", f"app {app.id!r} takes submissions only with a voter token")
    title, description = split_message(post.message)
    if not title:
        raise ApiError("validation_failed", "the message is blank", fields={"message": "blank"})
    enforce_rate_limit(
        "submission", app, runtime().settings.server.rate_limits.submissions_per_hour
    )
    email = post.email.strip() if post.email else None
    content = SubmissionContent(
        title=title,
        description=description,
        email=email if email and re.match(EMAIL_PATTERN, email) else None,
        name=post.name.strip()[:NAME_MAX] or None if post.name else None,
    )
    # The widget has no idempotency key: the whole post (its millisecond timestamp
    # included) stands for one, so a double click files one request.
    body = post.model_dump(mode="json")
    key = KEY_PREFIX + fingerprint(body)
    return accept_and_answer(
        app,
        content,
        source=Source.WIDGET,
        voter=None,
        idempotency_key=key,
        body_fingerprint=fingerprint(body),
        key_name="the post",
        client=client_key(),
    )
