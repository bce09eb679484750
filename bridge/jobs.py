"""Job kinds and the functions that run them, shared by ``serve`` and Lambda.

A job names its kind and carries a small JSON payload; ``run_job`` dispatches.
The outbox sweep finds anything a queue lost, so jobs only make work prompt.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bridge.delivery import deliver
from bridge.ports import Job
from bridge.runtime import Runtime
from bridge.sync import sync_all

log = logging.getLogger(__name__)

DELIVER_SUBMISSION = "deliver_submission"
SYNC = "sync"
SWEEP_BATCH = 50


class UnknownJobError(ValueError):
    """A job whose kind no handler is registered for."""


def _deliver(runtime: Runtime, payload: dict[str, Any]) -> None:
    deliver(runtime, str(payload["submission_id"]))


def _sync(runtime: Runtime, payload: dict[str, Any]) -> None:
    app_id = payload.get("app")
    sync_all(runtime, app_id=str(app_id) if app_id else None)


HANDLERS: dict[str, Callable[[Runtime, dict[str, Any]], None]] = {
    DELIVER_SUBMISSION: _deliver,
    SYNC: _sync,
}


def deliver_job(submission_id: str) -> Job:
    """The job that delivers one submission."""
    return Job(DELIVER_SUBMISSION, {"submission_id": submission_id})


def sync_job(app_id: str | None = None) -> Job:
    """The job that reconciles one app, or all."""
    return Job(SYNC, {"app": app_id} if app_id else {})


def run_job(runtime: Runtime, job: Job) -> None:
    """Run one job; exceptions propagate so the queue can retry it."""
    handler = HANDLERS.get(job.kind)
    if handler is None:
        raise UnknownJobError(f"no handler for job kind {job.kind!r}")
    handler(runtime, job.payload)


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
