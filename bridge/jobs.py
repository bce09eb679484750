"""Job kinds and the functions that run them, shared by ``serve`` and Lambda.

A job names its kind and carries a small JSON payload; ``run_job`` dispatches.
The outbox sweep finds anything a queue lost, so jobs only make work prompt.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from bridge.analysis.queueing import ANALYSE_REQUEST, POST_ANALYSIS
from bridge.boards import (
    ADD_TO_BOARD,
    BOARD_ITEM,
    add_to_board,
    apply_board_item,
    board_of,
    board_votes,
)
from bridge.delivery import DELIVER_SUBMISSION, deliver
from bridge.duplicates import MERGE_DUPLICATE, merge_duplicate
from bridge.embeddings.queueing import EMBED_REQUEST
from bridge.logs import context
from bridge.notify.email.feedback import EMAIL_FEEDBACK
from bridge.notify.emit import DELIVER_NOTIFICATION
from bridge.notify.outbox import deliver_notification, sweep_notifications
from bridge.ports import Job, TallyDue, TrackerError
from bridge.privacy.retention import DROP_EXPIRED_PERSONAL_DATA, drop_expired_personal_data
from bridge.runtime import Runtime
from bridge.sync import sync_all
from github_app.comments import LEGACY_TALLY_MARKER, render_tally, tally_marker

log = logging.getLogger(__name__)

SYNC = "sync"
WRITE_TALLIES = "write_tallies"
SWEEP_BATCH = 50
TALLY_BATCH = 20


class UnknownJobError(ValueError):
    """A job whose kind no handler is registered for."""


def _deliver(runtime: Runtime, payload: dict[str, Any]) -> None:
    deliver(runtime, str(payload["submission_id"]))


def _sync(runtime: Runtime, payload: dict[str, Any]) -> None:
    app_id = payload.get("app")
    # The schedule's syncs are incremental between full passes; one asked for is full.
    full = None if payload.get("scheduled") else True
    sync_all(runtime, app_id=str(app_id) if app_id else None, full=full)


def _merge(runtime: Runtime, payload: dict[str, Any]) -> None:
    merge_duplicate(runtime, str(payload["app"]), int(payload["number"]))


def _write_due_tallies(runtime: Runtime, payload: dict[str, Any]) -> None:
    write_tallies(runtime)


def _analyse(runtime: Runtime, payload: dict[str, Any]) -> None:
    # Loaded with the first analysis: pydantic's model and the prompt stay off cold starts.
    from bridge.analysis.job import analyse_request

    analyse_request(
        runtime, str(payload["app"]), int(payload["number"]), attempts=int(payload["attempts"])
    )


def _embed(runtime: Runtime, payload: dict[str, Any]) -> None:
    from bridge.embeddings.job import embed_request

    embed_request(
        runtime, str(payload["app"]), int(payload["number"]), attempts=int(payload["attempts"])
    )


def _email_feedback(runtime: Runtime, payload: dict[str, Any]) -> None:
    from bridge.notify.email.feedback import record_feedback

    record_feedback(runtime, payload)


def _post_analysis(runtime: Runtime, payload: dict[str, Any]) -> None:
    from bridge.analysis.job import post_analysis

    post_analysis(
        runtime, str(payload["app"]), int(payload["number"]), attempts=int(payload["attempts"])
    )


HANDLERS: dict[str, Callable[[Runtime, dict[str, Any]], None]] = {
    DELIVER_SUBMISSION: _deliver,
    SYNC: _sync,
    MERGE_DUPLICATE: _merge,
    ADD_TO_BOARD: add_to_board,
    BOARD_ITEM: apply_board_item,
    WRITE_TALLIES: _write_due_tallies,
    ANALYSE_REQUEST: _analyse,
    POST_ANALYSIS: _post_analysis,
    EMBED_REQUEST: _embed,
    DROP_EXPIRED_PERSONAL_DATA: drop_expired_personal_data,
    DELIVER_NOTIFICATION: deliver_notification,
    EMAIL_FEEDBACK: _email_feedback,
}


def tally_job() -> Job:
    """The job that writes whatever tallies are due (queued a tally interval after a vote)."""
    return Job(WRITE_TALLIES)


def sync_job(app_id: str | None = None) -> Job:
    """The job that reconciles one app, or all, with a full pass."""
    return Job(SYNC, {"app": app_id} if app_id else {})


def scheduled_sync_job() -> Job:
    """The schedule's job: every app, incremental unless a full pass is due."""
    return Job(SYNC, {"scheduled": True})


# The payload fields a job's log lines carry (ids and numbers only).
_LOGGED = ("app", "number", "submission_id")


def run_job(runtime: Runtime, job: Job) -> None:
    """Run one job, logging its outcome; exceptions propagate so the queue can retry it."""
    handler = HANDLERS.get(job.kind)
    if handler is None:
        raise UnknownJobError(f"no handler for job kind {job.kind!r}")
    ids = {key: job.payload[key] for key in _LOGGED if key in job.payload}
    started = time.perf_counter()
    with context(job=job.kind, **ids):
        try:
            handler(runtime, job.payload)
        except Exception:
            log.warning("job %s failed", job.kind, extra=_outcome("error", started))
            raise
        log.info("job %s done", job.kind, extra=_outcome("ok", started))


def _outcome(outcome: str, started: float) -> dict[str, object]:
    elapsed = round((time.perf_counter() - started) * 1000, 2)
    return {"event": "job", "outcome": outcome, "duration_ms": elapsed}


def sweep(runtime: Runtime) -> int:
    """One pass of the worker between jobs: the outbox, due tallies, due event deliveries.

    Returns how many submissions were attempted (the caller sweeps again at once
    while that is a full batch).
    """
    attempted = sweep_outbox(runtime)
    write_tallies(runtime)
    sweep_notifications(runtime)
    return attempted


def write_tallies(runtime: Runtime, *, limit: int = TALLY_BATCH) -> int:
    """Bring due vote tallies on GitHub up to date; return how many were due."""
    if not runtime.tracker.health().configured:
        return 0
    due = runtime.store.due_tallies(now=runtime.clock(), limit=limit)
    for item in due:
        write_tally(runtime, item)
    return len(due)


def write_tally(runtime: Runtime, due: TallyDue) -> None:
    """Edit (or create) the bridge's tally comment on one issue, and its board's Votes.

    An issue without bridge votes gets no new tally; one that had a tally (its
    voters moved to the original of a duplicate, say) has it brought to zero.
    When the app has a board and the issue is on it, the card's Votes field is
    set to the total in the same step (coalesced alike).
    A failure is retried after the tally interval, so GitHub's trouble does
    not turn into a tight loop; votes that arrive meanwhile are not lost.
    """
    store = runtime.store
    app = runtime.settings.app(due.app)
    request = store.get_request(due.app, due.number)
    if app is None or request is None:
        store.record_tally(due.app, due.number, version=due.version, now=runtime.clock())
        return
    if runtime.pacer.reserve(runtime.tracker.pacing_key(app.repo)) > 0:
        return  # over the content budget: still due, tried again on a later sweep
    body = render_tally(
        app_id=app.id,
        app_name=app.name,
        bridge_votes=request.bridge_votes,
        thumbs_up=request.github_thumbs_up,
    )
    try:
        runtime.tracker.upsert_comment(
            app.repo,
            request.number,
            tally_marker(app.id),
            body,
            create=request.bridge_votes > 0,
            adopt=LEGACY_TALLY_MARKER,
        )
        project = board_of(app)
        if project is not None:
            votes = board_votes(runtime, app, request)
            runtime.tracker.set_board_votes(project, app.repo, request.number, votes)
    except TrackerError as error:
        log.warning("tally of %s#%d not written: %s", app.repo, request.number, error)
        store.record_tally(due.app, due.number, version=0, now=runtime.clock())
        return
    store.record_tally(due.app, due.number, version=due.version, now=runtime.clock())


def sweep_outbox(runtime: Runtime, *, limit: int = SWEEP_BATCH) -> int:
    """Attempt up to ``limit`` submissions whose next attempt is due; return how many.

    Every attempt either delivers a submission or moves its next attempt into
    the future, so calling this until it returns less than ``limit`` ends.
    """
    if not runtime.tracker.health().configured:
        return 0
    due = runtime.store.due_submissions(now=runtime.clock(), limit=limit)
    for submission in due:
        deliver(runtime, submission.id)
    return len(due)
