"""Delivering a submission to GitHub exactly once.

A delivery leases the submission, renders the issue and creates it. When an
earlier attempt may have created the issue without the bridge learning so
(a timeout, a dropped answer, a crash), it first looks for the issue's marker
among the repo's recent issues and adopts what it finds. Failures schedule
the next attempt with backoff; nothing is ever dropped.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from msgspec.structs import replace

from bridge.analysis.queueing import analysis_job
from bridge.boards import add_to_board_job
from bridge.domain import Request, Submission, belongs_to_app
from bridge.embeddings.queueing import embed_job
from bridge.indexing import indexed_request
from bridge.logs import context
from bridge.notify.emit import request_delivered
from bridge.ports import Job, OutcomeUnknownError, TrackerError
from bridge.retry import retry_delay
from bridge.runtime import Runtime
from bridge.settings import AppConfig
from bridge.tracker_values import IssueDraft, TrackedIssue
from github_app.render import render_issue

log = logging.getLogger(__name__)

# GitHub's clock and ours may disagree; look a little further back than needed.
MARKER_LOOKBACK = timedelta(minutes=10)
UNKNOWN_APP_RETRY = timedelta(hours=1)
DELIVER_SUBMISSION = "deliver_submission"


def deliver_job(submission_id: str) -> Job:
    """The job that delivers one submission."""
    return Job(DELIVER_SUBMISSION, {"submission_id": submission_id})


def deliver(runtime: Runtime, submission_id: str) -> Submission | None:
    """Try once to put a submission on GitHub; return its state afterwards."""
    with context(submission_id=submission_id):
        return _deliver(runtime, submission_id)


def _deliver(runtime: Runtime, submission_id: str) -> Submission | None:
    store = runtime.store
    pending = store.get_submission(submission_id)
    if pending is None or pending.number is not None or not pending.may_be_sent:
        return pending  # delivered, or held back: a held one never spends GitHub's budget
    if pending.next_attempt_at is not None and pending.next_attempt_at > runtime.clock():
        return pending  # backing off: the sweep will come back when it is due
    app = runtime.settings.app(pending.app)
    if app is None:
        log.warning("submission %s belongs to unknown app %s", submission_id, pending.app)
        store.postpone(submission_id, until=runtime.clock() + UNKNOWN_APP_RETRY)
        return pending
    if not runtime.tracker.health().configured:
        return pending
    wait = runtime.pacer.reserve(runtime.tracker.pacing_key(app.repo))
    if wait > 0:
        store.postpone(submission_id, until=runtime.clock() + timedelta(seconds=wait))
        runtime.queue.enqueue(deliver_job(submission_id), delay_seconds=wait)
        return pending
    now = runtime.clock()
    claimed = store.claim_submission(submission_id, now=now, lease_until=now + lease(runtime))
    if claimed is None:
        return store.get_submission(submission_id)
    return _attempt(runtime, app, claimed)


def lease(runtime: Runtime) -> timedelta:
    """How long one delivery attempt holds its submission."""
    return timedelta(seconds=runtime.settings.server.delivery_lease_seconds)


def deliver_leased(
    runtime: Runtime, leased: Submission, *, lease_until: datetime
) -> Submission | None:
    """Deliver a submission stored already leased (``create_submission``'s ``lease_until``).

    The attempt that needs no claim: the submission was leased, its first
    attempt counted, in the transaction that stored it. GitHub's budget is
    asked first; when it says wait, the lease is given back unspent.
    """
    with context(submission_id=leased.id):
        app = runtime.settings.app(leased.app)
        if app is None or runtime.clock() >= lease_until:
            # Unknown app, or it waited so long for a thread that the lease ran out
            # (another worker may hold it now): the ordinary path decides.
            return _deliver(runtime, leased.id)
        wait = runtime.pacer.reserve(runtime.tracker.pacing_key(app.repo))
        if wait > 0:
            runtime.store.release_lease(leased.id, until=runtime.clock() + timedelta(seconds=wait))
            runtime.queue.enqueue(deliver_job(leased.id), delay_seconds=wait)
            return runtime.store.get_submission(leased.id)
        return _attempt(runtime, app, leased)


def _attempt(runtime: Runtime, app: AppConfig, claimed: Submission) -> Submission | None:
    """One attempt at GitHub for a submission this process holds the lease of."""
    store = runtime.store
    submission_id = claimed.id
    try:
        issue = _find_or_create(runtime, app, claimed)
    except TrackerError as error:
        delay = retry_delay(claimed.attempts, error.retry_after)
        log.info(
            "delivery of %s failed (attempt %d), next in %.0fs: %s",
            submission_id,
            claimed.attempts,
            delay,
            error,
        )
        store.record_failed_attempt(
            submission_id,
            error=str(error),
            next_attempt_at=runtime.clock() + timedelta(seconds=delay),
            outcome_unknown=isinstance(error, OutcomeUnknownError),
        )
        if claimed.attempts >= runtime.settings.server.delivery_max_attempts:
            # Kept with its last error for an operator (GET /v1/outbox?state=dead, retry).
            from bridge.outbox.states import dead

            store.change_hold(submission_id, dead)
            log.warning(
                "delivery of %s is dead after %d attempts: %s",
                submission_id,
                claimed.attempts,
                error,
                extra={"event": "delivery.dead", "app": app.id},
            )
            return store.get_submission(submission_id)
        # Come back when due (on Lambda, rather than at the next scheduled sweep).
        runtime.queue.enqueue(deliver_job(submission_id), delay_seconds=delay)
        return store.get_submission(submission_id)
    delivered = request_of(app, claimed, issue)
    store.mark_delivered(submission_id, delivered)
    log.info(
        "submission %s delivered as %s#%d",
        submission_id,
        app.repo,
        issue.number,
        extra={"event": "delivered", "app": app.id, "number": issue.number},
    )
    request_delivered(runtime, delivered)
    if app.project is not None:
        # The board is a follow-up: the request path spends one GitHub request.
        runtime.queue.enqueue(add_to_board_job(app.id, issue.number, issue.node_id))
    if runtime.analyzer is not None and app.analysis.enabled:
        # The analysis is a follow-up too: never on the submitter's request path.
        runtime.queue.enqueue(analysis_job(app.id, issue.number))
    if runtime.embedder is not None:
        # Its vector makes it findable by meaning (bridge.similar.search).
        runtime.queue.enqueue(embed_job(app.id, issue.number))
    return store.get_submission(submission_id)


def _find_or_create(runtime: Runtime, app: AppConfig, submission: Submission) -> TrackedIssue:
    rendered = render_issue(
        app_id=app.id,
        app_name=app.name,
        labels=app.labels,
        source=submission.source,
        submission_id=submission.id,
        content=submission.content,
        show_submitter_name=app.show_submitter_name,
    )
    if submission.outcome_unknown:
        found = runtime.tracker.find_issue_by_marker(
            app.repo, rendered.marker, created_since=submission.created_at - MARKER_LOOKBACK
        )
        if found is not None:
            log.info("submission %s adopted existing issue #%d", submission.id, found.number)
            return found
    draft = IssueDraft(
        repo=app.repo,
        title=rendered.title,
        body=rendered.body,
        labels=rendered.labels,
        marker=rendered.marker,
    )
    return runtime.tracker.create_issue(draft)


def request_of(app: AppConfig, submission: Submission, issue: TrackedIssue) -> Request:
    """The index entry of a freshly delivered submission: it starts with its submitter's vote."""
    if not belongs_to_app(issue.labels, app.labels):
        # GitHub drops labels when the App lacks push access; the request
        # still belongs to the app that filed it.
        log.warning("issue #%d in %s lacks some of %s's labels", issue.number, app.repo, app.id)
    return replace(
        indexed_request(app, issue, None, now=issue.created_at),
        source=submission.source,
        submission_id=submission.id,
        bridge_votes=1,
        weighted_votes=submission.voter_weight,
        description=submission.content.description,
    )
