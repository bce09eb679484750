"""Storing an operator's decision and starting the delivery an approval allows."""

from __future__ import annotations

import logging

from bridge.domain import OperatorAction, Submission, UnknownSubmissionError
from bridge.moderation.review import decide
from bridge.runtime import Runtime

log = logging.getLogger(__name__)


def apply_decision(
    runtime: Runtime,
    app: str,
    submission_id: str,
    action: OperatorAction,
    *,
    by: str,
    reason: str | None = None,
) -> Submission:
    """Approve or reject one submission of ``app``; return it as stored afterwards.

    An approval enqueues its delivery (exactly one issue: delivery is idempotent
    by submission id); a repeat changes nothing and enqueues nothing. Raises
    UnknownSubmissionError, or ActionRefusedError for one that was never held.
    """
    change = decide(action, at=runtime.clock(), by=by, reason=reason)
    changed = False

    def within_app(submission: Submission) -> Submission | None:
        nonlocal changed
        if submission.app != app:
            raise UnknownSubmissionError(submission_id)
        answer = change(submission)
        changed = answer is not None
        return answer

    after = runtime.store.change_hold(submission_id, within_app)
    if after is None:
        raise UnknownSubmissionError(submission_id)
    if changed:
        log.info(
            "submission %s %s",
            submission_id,
            "approved" if action is OperatorAction.APPROVE else "rejected",
            extra={"event": f"moderation.{action.value}", "app": app, "by": by},
        )
        if action is OperatorAction.APPROVE:
            from bridge.delivery import deliver_job

            runtime.queue.enqueue(deliver_job(submission_id))
    return after
