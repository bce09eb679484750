"""An operator's retry or cancel, stored, and the delivery a retry starts."""

from __future__ import annotations

import logging

from bridge.domain import Submission, UnknownSubmissionError
from bridge.outbox.states import cancel, retry
from bridge.runtime import Runtime

log = logging.getLogger(__name__)


def act(
    runtime: Runtime, submission_id: str, action: str, *, by: str, reason: str | None = None
) -> Submission:
    """``retry`` or ``cancel`` one submission; return it as stored afterwards.

    Raises UnknownSubmissionError, or ActionRefusedError when the action does not
    apply to the submission's state. A retry enqueues its delivery.
    """
    now = runtime.clock()
    change = retry(at=now, by=by) if action == "retry" else cancel(at=now, by=by, reason=reason)
    before = runtime.store.get_submission(submission_id)
    after = runtime.store.change_hold(submission_id, change) if before else None
    if before is None or after is None:
        raise UnknownSubmissionError(submission_id)
    if after.decisions != before.decisions:
        log.info(
            "submission %s: %s",
            submission_id,
            action,
            extra={"event": f"outbox.{action}", "app": after.app, "by": by},
        )
        if action == "retry":
            from bridge.delivery import deliver_job

            runtime.queue.enqueue(deliver_job(submission_id))
    return after
