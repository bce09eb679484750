"""The analysis job: queued after delivery (never on a submitter's request path).

One run reserves the worst case from the day's token budget, asks the model,
settles the budget, keeps the result in the index and posts (or edits) the
app's one analysis comment on the issue. Transient Bedrock errors back off;
a malformed answer becomes a failed analysis, recorded and counted, and
nothing is posted for it.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Literal

from msgspec import Struct

from bridge.analysis.bedrock import ATTEMPTS
from bridge.analysis.budget import DailyBudget, failures_key, next_day, worst_case_tokens
from bridge.analysis.model import DEFAULT_CATEGORIES, AnalysisInput
from bridge.analysis.queueing import analysis_job, post_job
from bridge.domain import AnalysisRecord, Request
from bridge.ports import AnalysisUnavailableError, TrackerError
from bridge.retry import retry_delay
from bridge.runtime import Runtime
from bridge.settings import AppConfig
from bridge.similar.search import find_similar

log = logging.getLogger(__name__)

# Transient errors are retried with backoff this many times, then the analysis fails.
MAX_ATTEMPTS = 8
SIMILAR_LIMIT = 5

Result = Literal["off", "missing", "waiting", "retrying", "analysed", "failed"]


def analysis_enabled(runtime: Runtime, app: AppConfig) -> bool:
    """A model is configured and the app has not turned analysis off."""
    return runtime.analyzer is not None and app.analysis.enabled


class Prepared(Struct, frozen=True):
    """An analysis ready to run: the app, the request and what the model is given."""

    app: AppConfig
    request: Request
    input: AnalysisInput


def prepare(runtime: Runtime, app_id: str, number: int) -> Prepared | Result:
    """What the model would be given, or why there is nothing to analyse."""
    app = runtime.settings.app(app_id)
    if app is None or not analysis_enabled(runtime, app):
        return "off"
    request = runtime.store.get_request(app_id, number)
    if request is None:
        return "missing"
    description = ""
    if request.submission_id:
        submission = runtime.store.get_submission(request.submission_id)
        if submission is not None:
            description = submission.content.description
    allowed: tuple[str, ...] = ()
    if app.analysis.allowed_labels:
        present = runtime.tracker.repo_labels(app.repo)
        allowed = tuple(label for label in app.analysis.allowed_labels if label in present)
    return Prepared(
        app,
        request,
        AnalysisInput(
            app_id=app.id,
            number=number,
            title=request.title,
            description=description,
            categories=tuple(app.categories) or DEFAULT_CATEGORIES,
            allowed_labels=allowed,
            candidates=similar_candidates(runtime, request, description),
        ),
    )


def worst_case_for(runtime: Runtime, prepared: Prepared) -> int:
    """The tokens an analysis of ``prepared`` reserves from the day's budget."""
    return worst_case_tokens(
        prepared.input, max_tokens=runtime.settings.analysis.max_tokens, attempts=ATTEMPTS
    )


def similar_candidates(runtime: Runtime, request: Request, description: str) -> dict[int, str]:
    """Titles of the app's requests most like this one (itself left out), by number."""

    matches = find_similar(
        runtime, request.app, request.title, description, limit=SIMILAR_LIMIT + 1
    )
    others = [match.request for match in matches if match.request.number != request.number]
    return {other.number: other.title for other in others[:SIMILAR_LIMIT]}


def analyse_request(runtime: Runtime, app_id: str, number: int, *, attempts: int = 0) -> Result:
    """Analyse one request and post its comment; re-queues itself when it must wait."""
    prepared = prepare(runtime, app_id, number)
    if not isinstance(prepared, Prepared):
        return prepared
    analyzer = runtime.analyzer
    if analyzer is None:  # prepare() said it is on; kept for the type checker
        return "off"
    settings = runtime.settings.analysis
    budget = DailyBudget(runtime.store, settings.daily_token_budget)
    now = runtime.clock()
    reserved = worst_case_for(runtime, prepared)
    if not budget.reserve(reserved, now):
        wait = (next_day(now) - now).total_seconds() + 1
        log.info("analysis of %s#%d waits %.0f s for the next day's budget", app_id, number, wait)
        runtime.queue.enqueue(analysis_job(app_id, number, attempts=attempts), delay_seconds=wait)
        return "waiting"
    try:
        outcome = analyzer.analyse(prepared.input)
    except AnalysisUnavailableError as error:
        budget.settle(reserved, error.tokens, now)
        if attempts + 1 < MAX_ATTEMPTS:
            delay = retry_delay(attempts + 1)
            log.warning("analysis of %s#%d: %s; again in %.0f s", app_id, number, error, delay)
            runtime.queue.enqueue(
                analysis_job(app_id, number, attempts=attempts + 1), delay_seconds=delay
            )
            return "retrying"
        outcome_error: str | None = f"Bedrock unavailable: {error}"
        tokens, model_id = error.tokens, ""
        fields: dict[str, object] = {}
    else:
        budget.settle(reserved, outcome.tokens, now)
        outcome_error, tokens, model_id = outcome.error, outcome.tokens, outcome.model_id
        fields = {} if outcome.analysis is None else outcome.analysis.model_dump(mode="json")
    record = AnalysisRecord(
        model_id=model_id or (settings.model_id or ""),
        analysed_at=now,
        fields=fields,
        error=outcome_error,
    )
    runtime.store.record_analysis(app_id, number, record)
    if record.failed:
        log.warning(
            "analysis of %s#%d failed (%d tokens): %s", app_id, number, tokens, record.error
        )
        runtime.store.add_to_counter(
            failures_key(now), 1, limit=None, expires_at=next_day(now) + timedelta(days=2)
        )
        return "failed"
    post_analysis(runtime, app_id, number)
    return "analysed"


def post_analysis(runtime: Runtime, app_id: str, number: int, *, attempts: int = 0) -> bool:
    """Post or edit the app's analysis comment from the stored analysis; False if queued again."""
    from github_app.comments import analysis_marker, render_analysis

    app = runtime.settings.app(app_id)
    request = runtime.store.get_request(app_id, number)
    if app is None or request is None or request.analysis is None or request.analysis.failed:
        return True
    record = request.analysis
    titles: dict[int, str] = {}
    for duplicate in _duplicate_numbers(record):
        found = runtime.store.get_request(app_id, duplicate)
        titles[duplicate] = found.title if found is not None else ""
    body = render_analysis(
        app_id=app.id,
        app_name=app.name,
        model_id=record.model_id,
        fields=record.fields,
        duplicate_titles=titles,
    )
    wait = runtime.pacer.reserve(runtime.tracker.pacing_key(app.repo))
    if wait > 0:
        # GitHub's content budget is spent: the comment waits for its slot, unchanged.
        runtime.queue.enqueue(post_job(app_id, number, attempts=attempts), delay_seconds=wait)
        return False
    try:
        runtime.tracker.upsert_comment(app.repo, number, analysis_marker(app.id), body)
        # Checked against the repo when analysed; the config may have changed since.
        labels = [str(x) for x in _labels(record) if str(x) in app.analysis.allowed_labels]
        if app.analysis.apply_labels and labels:
            runtime.tracker.add_labels(app.repo, number, labels)
    except TrackerError as error:
        delay = retry_delay(attempts + 1, error.retry_after)
        log.warning("analysis comment on %s#%d: %s; again in %.0f s", app_id, number, error, delay)
        runtime.queue.enqueue(post_job(app_id, number, attempts=attempts + 1), delay_seconds=delay)
        return False
    return True


def _duplicate_numbers(record: AnalysisRecord) -> list[int]:
    value = record.fields.get("likely_duplicates")
    if not isinstance(value, list):
        return []
    return [d["number"] for d in value if isinstance(d, dict) and isinstance(d.get("number"), int)]


def _labels(record: AnalysisRecord) -> list[object]:
    value = record.fields.get("suggested_labels")
    return list(value) if isinstance(value, list) else []
