"""Operational endpoints: health and the API description."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from pydantic import BaseModel, Field

from bridge.api.access import is_operator, require_operator, runtime
from bridge.api.errors import ApiError
from bridge.ports import StoreError
from bridge.runtime import Runtime

blueprint = Blueprint("ops", __name__)


# Here rather than in bridge.api.models: /healthz is what a cold start answers
# first, and it should build this model only, not the rest of the API's.
class Health(BaseModel):
    """Each dependency's state; ``detail`` and the analysis figures with the operator token."""

    status: str = Field(description="ok, degraded (works, something waits) or down")
    index: dict[str, object]
    github: dict[str, object]
    queue: dict[str, object] = Field(
        description="jobs waiting, submissions waiting for GitHub and the oldest one's age;"
        " with the operator token also submissions_by_state (pending, retrying, held,"
        " rejected, dead, cancelled)"
    )
    analysis: dict[str, object] = Field(
        description="on or off; today's (UTC) tokens (analyses and embeddings) against the"
        " daily budget; failed analyses"
    )
    similar: str = Field(
        description='how /similar searches: "fts" (full-text, BM25) or "basic" (a bounded'
        ' title-word match, on DynamoDB), with "+embeddings" when fused with Bedrock embeddings'
    )


def service_version() -> str:
    """The installed distribution's version."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("featurebridge")
    except PackageNotFoundError:
        return "0+unknown"


# What the public learns when GitHub cannot be used: which settings, not why
# (the reason may name files, App ids or URLs; the operator sees it).
PUBLIC_GITHUB_MISSING = (
    "no usable GitHub credentials (GITHUB_APP_ID with GITHUB_APP_PRIVATE_KEY or"
    " GITHUB_APP_PRIVATE_KEY_PATH, or GITHUB_TOKEN); submissions wait until then"
)
PUBLIC_INDEX_DOWN = "the index is unavailable"


@blueprint.get("/healthz")
def healthz() -> tuple[Response, int]:
    """200 with each dependency's state; 503 only when the index is down.

    Everyone sees the states and the queue; the operator also sees the details.
    """
    rt = runtime()
    operator = is_operator()
    index: dict[str, object] = {"ok": True}
    queue: dict[str, object] = {"depth": rt.queue.depth()}
    try:
        rt.store.ping()
        stats = rt.store.outbox_stats()
        queue["pending_submissions"] = stats.pending
        queue["oldest_pending_age_seconds"] = (
            round((rt.clock() - stats.oldest_created_at).total_seconds(), 1)
            if stats.oldest_created_at
            else None
        )
        if operator:
            # The whole pipeline by state (reads the backlog: the operator's view only).
            apps = [app.id for app in rt.settings.apps]
            queue["submissions_by_state"] = rt.store.outbox_depths(apps)
    except StoreError as error:
        index = {"ok": False, "detail": str(error) if operator else PUBLIC_INDEX_DOWN}
    tracker = rt.tracker.health()
    github: dict[str, object] = {"configured": tracker.configured}
    if operator:
        github["detail"] = tracker.detail
    elif not tracker.configured:
        github["detail"] = PUBLIC_GITHUB_MISSING
    if not index["ok"]:
        status, code = "down", 503
    elif not tracker.configured or queue.get("pending_submissions"):
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    analysis: dict[str, object] = (
        analysis_health(rt) if operator else {"enabled": rt.analyzer is not None}
    )
    body = Health(
        status=status,
        index=index,
        github=github,
        queue=queue,
        analysis=analysis,
        similar=rt.store.similar_mode() + ("+embeddings" if rt.vectors is not None else ""),
    )
    return jsonify(body.model_dump(mode="json")), code


def analysis_health(rt: Runtime) -> dict[str, object]:
    """Whether analysis is on, and today's budget use and failures (read from the index);
    the budget is shown too where only embeddings spend it."""
    settings = rt.settings.analysis
    off = {"enabled": False, "detail": "off: [analysis] model_id is not set"}
    if rt.analyzer is None and rt.embedder is None:
        return off
    from bridge.analysis.budget import failures_key, tokens_key

    now = rt.clock()
    health: dict[str, object] = (
        {"enabled": True, "model_id": settings.model_id} if rt.analyzer is not None else off
    )
    if rt.embedder is not None:
        health["embedding_model_id"] = settings.embedding_model_id
    health.update(
        {"day": now.date().isoformat(), "daily_token_budget": settings.daily_token_budget}
    )
    try:
        health["tokens_used_today"] = rt.store.read_counter(tokens_key(now))
        health["failed_today"] = rt.store.read_counter(failures_key(now))
    except StoreError as error:
        health["detail"] = str(error)
    return health


@blueprint.post("/v1/sync")
def sync() -> tuple[Response, int]:
    """Queue a reconciliation of the index with GitHub (``?app=`` for one app)."""
    from bridge.api.answer_models import SyncQueuedOut
    from bridge.jobs import sync_job

    require_operator()
    rt = runtime()
    app_id = request.args.get("app")
    if app_id is not None and rt.settings.app(app_id) is None:
        raise ApiError("not_found", f"no app {app_id!r}")
    if not rt.tracker.health().configured:
        raise ApiError("unavailable", rt.tracker.health().detail)
    rt.queue.enqueue(sync_job(app_id))
    return jsonify(SyncQueuedOut(queued=True, app=app_id).model_dump()), 202


@blueprint.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 description of this API."""
    # Its operations table loads every model of the API: only when asked for.
    from bridge.api.openapi import build_openapi

    document = build_openapi(
        server_url=runtime().settings.server.public_url, version=service_version()
    )
    return jsonify(document)
