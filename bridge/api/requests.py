"""Public request endpoints: submit, list, show."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from flask import Blueprint, Response, jsonify, request
from pydantic import ValidationError

from bridge.api.access import (
    RATE_WINDOW_SECONDS,
    app_or_404,
    client_key,
    limit_reads,
    rate_key,
    runtime,
    visible_app,
)
from bridge.api.body import read_body
from bridge.api.cors import install_cors, refuse_foreign_origin, service_origin
from bridge.api.cursor import decode_cursor, encode_cursor
from bridge.api.errors import ApiError, fields_of
from bridge.api.submitting import accept_and_answer
from bridge.api.voting import header_voter, token_voter
from bridge.domain import Source, SubmissionContent
from bridge.ports import InvalidCursorError, ListQuery, RateHit
from bridge.ranking import title_words
from bridge.settings import AppConfig

# The API's models, delivery and submission rules are imported by the views that
# use them: a cold start answering one route builds only what that route needs.
if TYPE_CHECKING:
    from pydantic import BaseModel

    from bridge.api.models import RequestOut
    from bridge.domain import Submission
    from bridge.voters import Voter

Params = TypeVar("Params", bound="BaseModel")

blueprint = Blueprint("requests", __name__)
install_cors(blueprint)

IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"
_IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)


@blueprint.get("/v1/apps/<app_id>/requests")
def list_requests(app_id: str) -> Response:
    """A page of the app's requests from the index."""
    from bridge.api.models import ListParams, RequestList, RequestOut

    app = visible_app(app_id)
    limit_reads(app)
    params = _query(ListParams)
    words = title_words(params.q or "")
    binding = f"{app.id}|{params.sort}|{params.status or ''}|{' '.join(words)}"
    position = decode_cursor(params.cursor, binding) if params.cursor else None
    query = ListQuery(
        app=app.id,
        sort=params.sort,
        status=params.status,
        words=words,
        limit=params.limit,
        cursor=position,
    )
    try:
        page = runtime().store.list_requests(query)
    except InvalidCursorError as error:
        raise ApiError(
            "bad_request", "cursor is not valid for this listing", fields={"cursor": str(error)}
        ) from error
    body = RequestList(
        items=_with_voted(app, [RequestOut.of(item) for item in page.items]),
        next_cursor=encode_cursor(page.next_cursor, binding) if page.next_cursor else None,
    )
    return jsonify(
        {"items": [item.to_json() for item in body.items], "next_cursor": body.next_cursor}
    )


@blueprint.get("/v1/apps/<app_id>/requests/<int:number>")
def show_request(app_id: str, number: int) -> Response:
    """One request of the index, with its latest analysis."""
    from bridge.api.detail_models import RequestDetailOut

    app = visible_app(app_id)
    limit_reads(app)
    found = runtime().store.get_request(app.id, number)
    if found is None:
        raise ApiError("not_found", f"no request #{number} in app {app.id!r}")
    [shown] = _with_voted(app, [RequestDetailOut.of(found)])
    return jsonify(shown.to_json())


@blueprint.get("/v1/apps/<app_id>/similar")
def similar_requests(app_id: str) -> Response:
    """Likely duplicates of a draft: lexical from the index, fused with embeddings when on."""
    from bridge.api.detail_models import SimilarList, SimilarOut, SimilarParams
    from bridge.similar.search import find_similar

    app = visible_app(app_id)
    limit_reads(app)
    params = _query(SimilarParams)
    rt = runtime()
    matches = find_similar(rt, app.id, params.title, params.description, limit=params.limit)
    body = SimilarList(
        items=[
            SimilarOut(
                number=match.request.number,
                title=match.request.title,
                status=match.request.status,
                url=match.request.url,
                total_votes=match.request.total_votes,
                score=match.score,
            )
            for match in matches
        ]
    )
    return jsonify(body.model_dump(mode="json"))


@blueprint.post("/v1/apps/<app_id>/requests")
def submit_request(app_id: str) -> tuple[Response, int] | Response:
    """Accept a submission: committed before answering, delivered now or queued."""

    app = app_or_404(app_id)
    refuse_foreign_origin(app)
    return submit(app, read_body(), _idempotency_key())


def submit(app: AppConfig, raw: object, key: str | None) -> tuple[Response, int]:
    """Validate a submission's fields and accept it: the API's route and the hosted form's post.

    Raises ``ApiError`` for what the client has to fix (422, 401, 429, 409).
    """
    from bridge.api.write_models import SubmissionIn
    from bridge.submissions import fingerprint

    try:
        submitted = SubmissionIn.model_validate(raw)
    except ValidationError as error:
        raise ApiError(
            "validation_failed", "the request has invalid fields", fields=fields_of(error)
        ) from error
    rt = runtime()
    if app.require_voter_token and not submitted.voter_token:
        raise ApiError(
            "unauthorized",
            f"app {app.id!r} takes submissions only with a voter token",
            fields={"voter_token": "required by this app"},
        )
    voter = token_voter(submitted.voter_token, app) if submitted.voter_token else None
    content = SubmissionContent(
        title=submitted.title,
        description=submitted.description,
        metadata=submitted.metadata,
        email=submitted.email or (voter.email if voter else None),
        name=submitted.name or (voter.name if voter else None),
    )
    source = _source(app)
    browser = None
    if source in (Source.WIDGET, Source.FORM) and voter is None:
        from bridge.moderation.screening import BrowserProof

        browser = BrowserProof(honeypot=submitted.website, form_token=submitted.form_token)
    return accept_and_answer(
        app,
        content,
        source=source,
        voter=voter,
        idempotency_key=key,
        # A repeat is the same request whatever render it came from.
        body_fingerprint=fingerprint(
            submitted.model_dump(mode="json", exclude={"website", "form_token"})
        ),
        key_name="Idempotency-Key",
        accepted=_follow(app, voter, submitted.email)
        if submitted.notify or (voter is not None and voter.notify)
        else None,
        client=client_key(),
        browser=browser,
        rate=RateHit(
            rate_key("submission", app),
            RATE_WINDOW_SECONDS,
            rt.settings.server.rate_limits.submissions_per_hour,
        ),
    )


def _follow(app: AppConfig, voter: Voter | None, typed: str | None) -> Callable[[Submission], None]:
    """The submitter's opt-in: email about the submission (and the issue it becomes)."""

    def follow(submission: Submission) -> None:
        from bridge.notify.email.model import submission_topic
        from bridge.notify.email.optin import opt_in

        opt_in(
            runtime(),
            app,
            voter=voter,
            typed=typed,
            topic=submission_topic(submission.id),
            follower=submission.voter or f"submission:{submission.id}",
            title=submission.content.title,
        )

    return follow


def _with_voted(app: AppConfig, items: list[RequestOut]) -> list[RequestOut]:
    """Mark which items the voter of X-Featurebridge-Voter voted for, when it is sent."""
    voter = header_voter(app)
    if voter is None:
        return items
    voted = runtime().store.voted(app.id, voter.key, [item.number for item in items])
    return [item.model_copy(update={"voted": item.number in voted}) for item in items]


def _source(app: AppConfig) -> Source:
    # A browser on one of the app's own origins is its embedded widget; one on
    # the service's own origin is the hosted form page (GET /apps/{app}/form).
    origin = request.headers.get("Origin")
    if not origin:
        return Source.API
    if origin == service_origin():
        return Source.FORM
    return Source.WIDGET if origin in app.allowed_origins else Source.API


def valid_idempotency_key(key: str) -> bool:
    """Whether ``key`` has the shape of an Idempotency-Key (1-255 visible ASCII characters)."""
    return _IDEMPOTENCY_KEY.match(key) is not None


def _idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not valid_idempotency_key(key):
        raise ApiError(
            "bad_request",
            "Idempotency-Key is not valid",
            fields={"Idempotency-Key": "1-255 visible ASCII characters"},
        )
    return key


def _query(model: type[Params]) -> Params:
    values: dict[str, Any] = {key: request.args.get(key) for key in request.args}
    try:
        return model.model_validate(values)
    except ValidationError as error:
        raise ApiError(
            "bad_request", "invalid query parameters", fields=fields_of(error)
        ) from error
