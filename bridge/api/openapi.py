"""OpenAPI 3.1 description of the API, generated from the models that validate it."""

from __future__ import annotations

from typing import Any

from msgspec import Struct, field
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from bridge.api.answer_models import (
    AnalysisQueuedOut,
    ConfirmedOut,
    ErrorOut,
    LinkParams,
    NotificationList,
    NotificationParams,
    SyncParams,
    SyncQueuedOut,
    UnsubscribedOut,
    WebhookAnswerOut,
)
from bridge.api.body import API_BODY_LIMIT
from bridge.api.detail_models import RequestDetailOut, SimilarList, SimilarParams
from bridge.api.errors import CODE_OF_STATUS
from bridge.api.export_models import EXPORT_DESCRIPTION, ExportDocument, ExportParams, ExportRow
from bridge.api.github import WEBHOOK_BODY_LIMIT
from bridge.api.models import AppList, ListParams, RequestList
from bridge.api.ops import Health
from bridge.api.requests import IDEMPOTENCY_KEY_PATTERN
from bridge.api.write_models import (
    EMAIL_PATTERN,
    FeedbackFinIgnoredOut,
    FeedbackFinPostIn,
    GoogleFormPostIn,
    SubmissionIn,
    SubmissionOut,
    TypeformPostIn,
    VoteIn,
    VoteOut,
)
from bridge.domain import SUBMISSION_ID_PATTERN
from bridge.moderation.models import (
    DecisionIn,
    FormTokenOut,
    ReviewItemOut,
    ReviewListOut,
    ReviewParams,
)
from bridge.outbox.models import CancelIn, OutboxItemOut, OutboxListOut, OutboxParams
from bridge.untrusted import INT64_MAX, NOT_BLANK
from bridge.voters import ANONYMOUS_ID_PATTERN

REF_TEMPLATE = "#/components/schemas/{model}"
# Media types whose body is a sequence of JSON values, one a line: described as their array.
LINE_DELIMITED = frozenset({"application/jsonl"})


class Operation(Struct, frozen=True):
    """One documented route."""

    method: str
    path: str
    summary: str
    responses: dict[int, type[BaseModel]]
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # Error statuses the route can answer (each with the envelope), besides ``default``.
    errors: tuple[int, ...] = ()
    # Header name → JSON Schema where a header is more than any string, and which are required.
    header_schemas: dict[str, dict[str, Any]] = field(default_factory=dict)
    required_headers: tuple[str, ...] = ()
    # Media type → JSON Schema where a body is not the body model (a form, a free payload).
    body_schemas: dict[str, dict[str, Any]] = field(default_factory=dict)
    tags: tuple[str, ...] = ("requests",)
    # Export: longer text, operator auth, other media types and headers of 2xx answers.
    description: str = ""
    operator: bool = False
    content: dict[str, type[BaseModel] | None] = field(default_factory=dict)
    response_headers: dict[str, str] = field(default_factory=dict)
    body_media: tuple[str, ...] = ("application/json", "application/x-www-form-urlencoded")
    body_required: bool = True
    # Statuses answered with a server-rendered page (text/html), beside or instead of JSON.
    pages: tuple[int, ...] = ()


APP_PARAM = {"name": "app", "in": "path", "required": True, "schema": {"type": "string"}}
NUMBER_PARAM = {
    "name": "number",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 0, "maximum": INT64_MAX},
}
ID_PARAM = {
    "name": "id",
    "in": "path",
    "required": True,
    "description": "the submission id",
    "schema": {"type": "string", "pattern": SUBMISSION_ID_PATTERN},
}
IDEMPOTENCY_KEY = {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN}
# The urlencoded submission: the JSON body's fields as strings, metadata as metadata[key].
SUBMISSION_FORM: dict[str, Any] = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "minLength": 1, "maxLength": 256, "pattern": NOT_BLANK},
        "description": {"type": "string", "maxLength": 60_000},
        # An empty field is an absent one (what an HTML form sends for a blank input).
        "email": {"type": "string", "maxLength": 254, "pattern": f"^$|{EMAIL_PATTERN}"},
        "name": {"type": "string", "maxLength": 100},
        "voter_token": {"type": "string", "maxLength": 4096},
        "notify": {"type": "string", "enum": ["true", "false", "on", "off"]},
        "website": {"type": "string", "maxLength": 2000},
        "form_token": {"type": "string", "maxLength": 200},
    },
    "patternProperties": {r"^metadata\[[^\]]{1,64}\]$": {"type": "string"}},
    "additionalProperties": False,
    "required": ["title"],
    "description": f"the same fields as the JSON body, at most {API_BODY_LIMIT} bytes",
}
# The urlencoded vote: a blank field is an absent one, so exactly one is non-blank.
VOTE_FORM: dict[str, Any] = {
    "type": "object",
    "properties": {
        "voter_token": {"type": "string", "maxLength": 4096},
        "anonymous_id": {"type": "string", "pattern": f"^$|{ANONYMOUS_ID_PATTERN}"},
        "notify": {"type": "string", "enum": ["true", "false", "on", "off"]},
        "email": {"type": "string", "maxLength": 254, "pattern": f"^$|{EMAIL_PATTERN}"},
    },
    "additionalProperties": False,
    "oneOf": [
        {"required": [name], "properties": {name: {"minLength": 1}}}
        for name in ("voter_token", "anonymous_id")
    ],
    # email is for votes without a token (a blank one is an absent one).
    "not": {
        "required": ["voter_token", "email"],
        "properties": {"voter_token": {"minLength": 1}, "email": {"minLength": 1}},
    },
}
# RFC 8058's one-click body (mail clients send it; it is not needed, and not read).
ONE_CLICK_BODY: dict[str, Any] = {
    "type": "object",
    "properties": {"List-Unsubscribe": {"type": "string", "enum": ["One-Click"]}},
}
UNSUBSCRIBE_DESCRIPTION = (
    "The link in every email (and its List-Unsubscribe header), signed with the deployment's "
    "signing key (FEATUREBRIDGE_SIGNING_SECRET); it never expires. GET shows a page with one "
    "button and changes nothing; POST unsubscribes the address from the app's emails "
    "(RFC 8058 one-click: `List-Unsubscribe=One-Click` as urlencoded or multipart, or no "
    "body). A forged token is 400 and changes nothing. POST answers JSON, or the page when "
    "the client prefers text/html."
)
CONFIRM_DESCRIPTION = (
    "The link of the confirmation email an address typed without a voter token gets (double "
    "opt-in). GET shows a page with one button and changes nothing; POST confirms, and the "
    "address gets the emails it asked for. A forged token is 400 and changes nothing."
)
WEBHOOK_PAYLOAD_JSON: dict[str, Any] = {
    "type": "object",
    "description": f"a GitHub webhook payload, at most {WEBHOOK_BODY_LIMIT} bytes",
}
WEBHOOK_PAYLOAD_FORM: dict[str, Any] = {
    "type": "object",
    "properties": {"payload": {"type": "string", "description": "the JSON payload"}},
    "required": ["payload"],
}
_REASONS = {
    400: "malformed JSON, a bad query parameter or cursor (named in fields)",
    401: "missing, empty, forged or expired token or signature",
    403: "a token for another app, or a kind of input the app does not take",
    404: "unknown app or request, or an app this caller may not see",
    409: "closed request, Idempotency-Key reused with another body, or analysis off",
    413: f"body over {API_BODY_LIMIT} bytes ({WEBHOOK_BODY_LIMIT} for GitHub webhooks)",
    415: "Content-Type not accepted",
    422: "invalid fields (named in fields)",
    429: "rate limited; Retry-After says when to retry",
    503: "the index (or GitHub, for sync) is unavailable; retry",
}
_BODY_ERRORS = (400, 413, 415, 422)

GOOGLE_FORMS_DESCRIPTION = (
    "The Apps Script of forms/google-apps-script.gs posts each form response here. "
    "X-Featurebridge-Signature is `sha256=` and the hex HMAC-SHA256 of "
    '`"<X-Featurebridge-Timestamp>.<raw body>"` under the app\'s form secret '
    "(the variable its `form_secret_env` names). A timestamp more than 5 minutes from "
    "the server's clock, or a missing or wrong signature, is 401; an app without a form "
    "secret is 403. Answers are mapped by `[apps.google_forms]` question titles; other "
    "answers follow the description. `response_id` is the idempotency key: a repeat "
    "returns the same submission, the same id with another body is 409."
)

TYPEFORM_DESCRIPTION = (
    "A Typeform webhook posts each form response here. Typeform-Signature is `sha256=` "
    "and the base64 HMAC-SHA256 of the raw body under the app's Typeform secret (the "
    "variable its `typeform_secret_env` names); a missing or wrong signature is 401, an "
    "app without a Typeform secret is 403. Answers are found by field `ref` through "
    "`[apps.typeform]` and read by their `type`; other answers follow the description, "
    "except email, phone and payment answers, which never reach GitHub. "
    "`form_response.token` is the idempotency key: Typeform's retries file nothing new."
)

FEEDBACKFIN_DESCRIPTION = (
    "The Feedback Fin widget's own JSON, `{...config.user, feedbackType, message, "
    "timestamp}`, from a page on one of the app's `allowed_origins` (another Origin is "
    "403). The message's first line is the title, the rest the description; the user's "
    "email and name stay private. Only the app's `feedbackfin_types` (default `idea`) "
    "are filed; other types are answered 200 with `filed: false`. The same post again "
    "files nothing new."
)

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "get",
        "/v1/apps",
        "List the apps this caller may read",
        {200: AppList},
        tags=("apps",),
        description="Public apps; every app with the operator token; with a voter token in"
        " X-Featurebridge-Voter also that token's app. From the configuration, by id.",
        headers={"X-Featurebridge-Voter": "a voter token: also lists its app"},
    ),
    Operation(
        "get",
        "/v1/apps/{app}/requests",
        "List an app's requests from the index",
        {200: RequestList},
        query=ListParams,
        errors=(400, 401, 403, 404, 429, 503),
    ),
    Operation(
        "get",
        "/v1/apps/{app}/requests/{number}",
        "Show one request, with its latest AI analysis",
        {200: RequestDetailOut},
        errors=(401, 403, 404, 429, 503),
    ),
    Operation(
        "get",
        "/v1/apps/{app}/similar",
        "Likely duplicates of a draft, best first",
        {200: SimilarList},
        query=SimilarParams,
        errors=(400, 401, 403, 404, 429, 503),
        description="Open and closed requests of the app whose title and description are"
        " most like the draft's (a request closed as a duplicate is shown as its original)."
        " Lexical: SQLite full-text search with BM25, or a bounded title-word match on"
        " DynamoDB (`/healthz` says which). Follows the listing's visibility; rate-limited"
        " per client IP and app.",
    ),
    Operation(
        "post",
        "/v1/apps/{app}/requests",
        "Submit a feature request (JSON or urlencoded form)",
        {201: SubmissionOut, 202: SubmissionOut},
        body=SubmissionIn,
        headers={"Idempotency-Key": "repeat-safe submissions: kept 24 h per app"},
        header_schemas={"Idempotency-Key": IDEMPOTENCY_KEY},
        body_schemas={"application/x-www-form-urlencoded": SUBMISSION_FORM},
        errors=(*_BODY_ERRORS, 401, 403, 404, 409, 429, 503),
    ),
    Operation(
        "post",
        "/v1/apps/{app}/requests/{number}/votes",
        "Vote for a request (a repeat changes nothing)",
        {200: VoteOut},
        body=VoteIn,
        body_schemas={"application/x-www-form-urlencoded": VOTE_FORM},
        errors=(*_BODY_ERRORS, 401, 403, 404, 409, 429, 503),
    ),
    Operation(
        "delete",
        "/v1/apps/{app}/requests/{number}/votes",
        "Take a vote back",
        {200: VoteOut},
        body=VoteIn,
        body_schemas={"application/x-www-form-urlencoded": VOTE_FORM},
        errors=(*_BODY_ERRORS, 401, 403, 404, 429, 503),
    ),
    Operation(
        "post",
        "/v1/apps/{app}/google-forms",
        "File a signed Google Form response as a request",
        {201: SubmissionOut, 202: SubmissionOut},
        body=GoogleFormPostIn,
        headers={
            "X-Featurebridge-Timestamp": "unix seconds of signing; within 5 minutes of now",
            "X-Featurebridge-Signature": 'sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">',
        },
        tags=("google-forms",),
        description=GOOGLE_FORMS_DESCRIPTION,
        body_media=("application/json",),
        header_schemas={
            "X-Featurebridge-Timestamp": {"type": "string", "pattern": r"^[0-9]{1,12}$"},
            "X-Featurebridge-Signature": {"type": "string", "pattern": "^sha256=[0-9a-fA-F]{64}$"},
        },
        required_headers=("X-Featurebridge-Timestamp", "X-Featurebridge-Signature"),
        errors=(*_BODY_ERRORS, 401, 403, 404, 409, 503),
    ),
    Operation(
        "post",
        "/v1/apps/{app}/typeform",
        "File a signed Typeform response as a request",
        {201: SubmissionOut, 202: SubmissionOut},
        body=TypeformPostIn,
        headers={"Typeform-Signature": "sha256=<base64 HMAC-SHA256 of the raw body>"},
        header_schemas={
            "Typeform-Signature": {"type": "string", "pattern": "^sha256=[A-Za-z0-9+/]{43}=$"}
        },
        required_headers=("Typeform-Signature",),
        errors=(*_BODY_ERRORS, 401, 403, 404, 409, 503),
        tags=("typeform",),
        description=TYPEFORM_DESCRIPTION,
        body_media=("application/json",),
    ),
    Operation(
        "post",
        "/v1/apps/{app}/feedbackfin",
        "File a Feedback Fin widget post as a request",
        {200: FeedbackFinIgnoredOut, 201: SubmissionOut, 202: SubmissionOut},
        body=FeedbackFinPostIn,
        errors=(*_BODY_ERRORS, 401, 403, 404, 429, 503),
        tags=("feedbackfin",),
        description=FEEDBACKFIN_DESCRIPTION,
        body_media=("application/json",),
    ),
    Operation(
        "post",
        "/v1/apps/{app}/requests/{number}/analysis",
        "Run the AI analysis of a request again (operator)",
        {202: AnalysisQueuedOut},
        tags=("analysis",),
        description="Queues the analysis; its job posts or edits the app's analysis comment. "
        "409 while analysis is off (no `[analysis] model_id`, or the app disabled it).",
        operator=True,
        errors=(401, 404, 409, 503),
    ),
    Operation(
        "get",
        "/v1/apps/{app}/form-token",
        "A signed render time for the widget's submit form",
        {200: FormTokenOut},
        errors=(404, 429, 503),
        tags=("moderation",),
        description="The widget sends it back as `form_token`; a submission sooner than the "
        "app's `[apps.spam] min_seconds_to_submit` after it, or without one, is held for "
        "review where the app moderates by signals. Never cached.",
    ),
    Operation(
        "get",
        "/v1/apps/{app}/moderation",
        "Submissions held for review, oldest first (operator)",
        {200: ReviewListOut},
        query=ReviewParams,
        tags=("moderation",),
        description="Held submissions (or `state=rejected`) with the spam signals that held "
        "them and every decision so far; never the submitter's email or name.",
        operator=True,
        errors=(400, 401, 404, 503),
    ),
    *(
        Operation(
            "post",
            f"/v1/apps/{{app}}/moderation/{{id}}/{action}",
            summary,
            {200: ReviewItemOut},
            body=DecisionIn,
            body_media=("application/json",),
            body_required=False,
            tags=("moderation",),
            description=description,
            operator=True,
            errors=(*_BODY_ERRORS, 401, 404, 409, 503),
        )
        for action, summary, description in (
            (
                "approve",
                "Approve a held submission (operator)",
                "Its issue is then delivered as usual, exactly once; approving again changes "
                "nothing. A rejected submission may still be approved.",
            ),
            (
                "reject",
                "Reject a held submission (operator)",
                "Kept and marked rejected, never sent; rejecting again changes nothing. 409 for "
                "a submission that was never held or is already approved.",
            ),
        )
    ),
    Operation(
        "get",
        "/v1/outbox",
        "The delivery pipeline: what waits for GitHub, and why (operator)",
        {200: OutboxListOut},
        query=OutboxParams,
        tags=("ops",),
        description="Submissions not on GitHub in one state, with their attempts, next "
        "attempt and last error; never their text, email or name. Pending and retrying "
        "ones by next attempt, the others app by app, oldest first.",
        operator=True,
        errors=(400, 401, 404, 503),
    ),
    Operation(
        "post",
        "/v1/outbox/{id}/retry",
        "Retry a dead delivery now (operator)",
        {200: OutboxItemOut},
        tags=("ops",),
        description="A dead delivery (or one backing off) is due now and delivered as usual,"
        " exactly once. 409 for a held, rejected or cancelled submission; a delivered one is"
        " answered as it is.",
        operator=True,
        errors=(401, 404, 409, 503),
    ),
    Operation(
        "delete",
        "/v1/outbox/{id}",
        "Cancel a submission that has not reached GitHub (operator)",
        {200: OutboxItemOut},
        body=CancelIn,
        body_media=("application/json",),
        body_required=False,
        tags=("ops",),
        description="Kept and marked cancelled, never sent; a repeat changes nothing. 409 once"
        " it is on GitHub, or while an attempt may have created its issue.",
        operator=True,
        errors=(*_BODY_ERRORS, 401, 404, 409, 503),
    ),
    Operation(
        "get", "/healthz", "Each dependency's state", {200: Health, 503: Health}, tags=("ops",)
    ),
    Operation(
        "get",
        "/v1/export",
        "Export aggregated vote data as JSON, JSONL or CSV (operator)",
        {200: ExportDocument},
        query=ExportParams,
        tags=("export",),
        description=EXPORT_DESCRIPTION,
        operator=True,
        content={"application/jsonl": ExportRow, "text/csv": None},
        response_headers={"Link": '<next page URL>; rel="next" while more rows remain'},
        errors=(400, 401, 503),
    ),
    Operation(
        "post",
        "/v1/sync",
        "Reconcile the index with GitHub now (operator)",
        {202: SyncQueuedOut},
        query=SyncParams,
        tags=("ops",),
        description="Queues a reconciliation (it also runs on a schedule); 404 for an unknown "
        "app, 503 while GitHub is not configured.",
        operator=True,
        errors=(401, 404, 503),
    ),
    Operation(
        "get",
        "/v1/notifications",
        "Recent deliveries of outgoing events and their failures (operator)",
        {200: NotificationList},
        query=NotificationParams,
        tags=("ops",),
        description="Webhook and SNS deliveries, newest first; `state=failed` lists those "
        "that were refused (a private or metadata target) or failed for 25 hours.",
        operator=True,
        errors=(400, 401),
    ),
    Operation(
        "get",
        "/v1/unsubscribe",
        "The unsubscribe page of an email's link",
        {},
        query=LinkParams,
        tags=("email",),
        description=UNSUBSCRIBE_DESCRIPTION,
        pages=(200, 400),
    ),
    Operation(
        "post",
        "/v1/unsubscribe",
        "Unsubscribe an email's address (RFC 8058 one-click)",
        {200: UnsubscribedOut},
        query=LinkParams,
        tags=("email",),
        description=UNSUBSCRIBE_DESCRIPTION,
        body_schemas={
            "application/x-www-form-urlencoded": ONE_CLICK_BODY,
            "multipart/form-data": ONE_CLICK_BODY,
        },
        body_required=False,
        pages=(200, 400),
        errors=(400,),
    ),
    Operation(
        "get",
        "/v1/confirm",
        "The confirmation page of a typed address",
        {},
        query=LinkParams,
        tags=("email",),
        description=CONFIRM_DESCRIPTION,
        pages=(200, 400),
    ),
    Operation(
        "post",
        "/v1/confirm",
        "Confirm a typed address (double opt-in)",
        {200: ConfirmedOut},
        query=LinkParams,
        tags=("email",),
        description=CONFIRM_DESCRIPTION,
        pages=(200, 400),
        errors=(400,),
    ),
    Operation(
        "post",
        "/github/webhooks",
        "Receive a GitHub webhook delivery",
        {200: WebhookAnswerOut, 202: WebhookAnswerOut},
        tags=("github",),
        description="X-Hub-Signature-256 is `sha256=` and the hex HMAC-SHA256 of the raw body "
        "under GITHUB_WEBHOOK_SECRET (or GITHUB_WEBHOOK_SECRET_PREVIOUS while rotating); "
        "missing, empty or wrong is 401. A repeated X-GitHub-Delivery has no second effect "
        "(`applied: false`). 202: ignored (the bridge's own events, events it has no handler "
        "for). 503 while no webhook secret is configured.",
        headers={
            "X-GitHub-Event": "the event name",
            "X-GitHub-Delivery": "the delivery id",
            "X-Hub-Signature-256": "sha256=<hex HMAC-SHA256 of the raw body>",
        },
        header_schemas={
            "X-GitHub-Event": {"type": "string", "minLength": 1},
            "X-GitHub-Delivery": {"type": "string", "minLength": 1},
            "X-Hub-Signature-256": {"type": "string", "pattern": "^sha256=[0-9a-fA-F]{64}$"},
        },
        required_headers=("X-GitHub-Event", "X-GitHub-Delivery", "X-Hub-Signature-256"),
        body=None,
        body_schemas={
            "application/json": WEBHOOK_PAYLOAD_JSON,
            "application/x-www-form-urlencoded": WEBHOOK_PAYLOAD_FORM,
        },
        errors=(*_BODY_ERRORS, 401, 503),
    ),
)


def build_openapi(*, server_url: str, version: str) -> dict[str, Any]:
    """The whole OpenAPI 3.1 document."""
    models: set[type[BaseModel]] = {ErrorOut}
    for op in OPERATIONS:
        models.update(op.responses.values())
        if op.body:
            models.add(op.body)
        models.update(model for model in op.content.values() if model is not None)
        if op.query:
            # Query models are not referenced as a whole, but their enums are.
            models.add(op.query)
    refs, defs = models_json_schema(
        [(model, "validation") for model in sorted(models, key=lambda m: m.__name__)],
        ref_template=REF_TEMPLATE,
    )
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Feature Bridge",
            "version": version,
            "description": "Feature requests from widgets and forms, filed as GitHub issues.",
        },
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {"operator": {"type": "http", "scheme": "bearer"}},
        },
    }


def _operation(op: Operation, refs: dict[Any, Any]) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = []
    if "{app}" in op.path:
        parameters.append(APP_PARAM)
    if "{number}" in op.path:
        parameters.append(NUMBER_PARAM)
    if "{id}" in op.path:
        parameters.append(ID_PARAM)
    if op.query is not None:
        schema = op.query.model_json_schema(ref_template=REF_TEMPLATE)
        required = set(schema.get("required", ()))
        for name, prop in schema["properties"].items():
            parameters.append(
                {"name": name, "in": "query", "required": name in required, "schema": prop}
            )
    for name, description in op.headers.items():
        parameters.append(
            {
                "name": name,
                "in": "header",
                "required": name in op.required_headers,
                "description": description,
                "schema": op.header_schemas.get(name, {"type": "string"}),
            }
        )
    document: dict[str, Any] = {
        "summary": op.summary,
        "tags": list(op.tags),
        "parameters": parameters,
        "responses": {
            str(status): {
                "description": model.__doc__ or model.__name__,
                "content": {"application/json": {"schema": refs[(model, "validation")]}},
            }
            for status, model in op.responses.items()
        }
        | {
            str(status): {
                "description": f"{CODE_OF_STATUS[status]}: {_REASONS[status]}",
                "content": {"application/json": {"schema": refs[(ErrorOut, "validation")]}},
            }
            for status in sorted(op.errors)
        }
        | {
            "default": {
                "description": "error envelope",
                "content": {"application/json": {"schema": refs[(ErrorOut, "validation")]}},
            }
        },
    }
    for status in op.pages:
        answer = document["responses"].setdefault(
            str(status), {"description": "a page", "content": {}}
        )
        answer["content"]["text/html"] = {"schema": {"type": "string"}}
    if op.description:
        document["description"] = op.description
    if op.operator:
        document["security"] = [{"operator": []}]
    for status, answer in document["responses"].items():
        if status.startswith("2"):
            for media, model in op.content.items():
                schema = refs[(model, "validation")] if model else {"type": "string"}
                if media in LINE_DELIMITED:
                    schema = {"type": "array", "items": schema, "description": "one a line"}
                answer["content"][media] = {"schema": schema}
            if op.response_headers:
                answer["headers"] = {
                    name: {"description": text, "schema": {"type": "string"}}
                    for name, text in op.response_headers.items()
                }
    if op.body is not None or op.body_schemas:
        model_schema = refs[(op.body, "validation")] if op.body is not None else {}
        media_types = op.body_media if op.body is not None else tuple(op.body_schemas)
        document["requestBody"] = {
            "required": op.body_required,
            "content": {
                media: {"schema": op.body_schemas.get(media, model_schema)} for media in media_types
            },
        }
    return document
