"""What an operator's approve or reject does to a submission: a pure rule."""

from __future__ import annotations

from datetime import datetime

from msgspec.structs import replace

from bridge.domain import ActionRefusedError, Decision, Hold, OperatorAction, Submission
from bridge.ports import HoldChange


def decide(action: OperatorAction, *, at: datetime, by: str, reason: str | None) -> HoldChange:
    """The change an action makes: approve lifts the hold (due now), reject marks it.

    A repeat changes nothing: approving an approved or delivered submission, or
    rejecting a rejected one. Approving a rejected one is an operator changing
    their mind and is allowed; rejecting one already approved (sendable) is not,
    since it may be on GitHub by now.
    """

    def change(submission: Submission) -> Submission | None:
        if submission.hold in (Hold.DEAD, Hold.CANCELLED):
            raise ActionRefusedError(
                f"this submission is {submission.hold.value}: see it in the outbox"
            )
        approved = any(d.action is OperatorAction.APPROVE for d in submission.decisions)
        if action is OperatorAction.APPROVE:
            if submission.hold is None and (approved or not submission.may_be_sent):
                return None  # approved before, or delivered: nothing more to do
            if submission.hold is None:
                raise ActionRefusedError("this submission was never held for review")
            target = None
        else:
            if submission.hold is Hold.REJECTED:
                return None
            if submission.hold is None:
                raise ActionRefusedError(
                    "only a held submission can be rejected: this one is "
                    + ("approved" if approved else "on its way to GitHub")
                )
            target = Hold.REJECTED
        decision = Decision(action=action, at=at, by=by, reason=reason)
        return replace(
            submission,
            hold=target,
            decisions=(*submission.decisions, decision),
            next_attempt_at=at if target is None else submission.next_attempt_at,
        )

    return change
