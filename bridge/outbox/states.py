"""A submission's place in the pipeline, and what an operator's retry or cancel does to it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from msgspec.structs import replace

from bridge.domain import (
    ActionRefusedError,
    Decision,
    Delivery,
    Hold,
    OperatorAction,
    Submission,
)
from bridge.ports import HoldChange

OutboxState = Literal["pending", "retrying", "held", "rejected", "dead", "cancelled", "delivered"]
# What the listing shows: everything that has not reached GitHub.
LISTED: tuple[OutboxState, ...] = get_args(OutboxState)[:-1]


def state_of(submission: Submission) -> OutboxState:
    """Delivered; held back (held, rejected, dead, cancelled); else pending or retrying."""
    if submission.delivery is Delivery.DELIVERED:
        return "delivered"
    if submission.hold is not None:
        return submission.hold.value
    return "retrying" if submission.attempts > 0 else "pending"


def dead(submission: Submission) -> Submission | None:
    """Delivery gives up until an operator retries (its last error stays on record)."""
    return replace(submission, hold=Hold.DEAD) if submission.may_be_sent else None


def retry(*, at: datetime, by: str) -> HoldChange:
    """A dead delivery (or one backing off) is due now; a repeat just keeps it due."""

    def change(submission: Submission) -> Submission | None:
        state = state_of(submission)
        if state == "delivered":
            return None
        if state in ("held", "rejected"):
            raise ActionRefusedError(f"this submission is {state}: approve it to send it")
        if state == "cancelled":
            raise ActionRefusedError("this submission was cancelled")
        return replace(
            submission,
            hold=None,
            next_attempt_at=at,
            decisions=(*submission.decisions, Decision(OperatorAction.RETRY, at, by)),
        )

    return change


def cancel(*, at: datetime, by: str, reason: str | None) -> HoldChange:
    """Take back a submission that has not reached GitHub; kept, marked cancelled."""

    def change(submission: Submission) -> Submission | None:
        state = state_of(submission)
        if state == "cancelled":
            return None
        if state == "delivered":
            raise ActionRefusedError("this submission is on GitHub already: close its issue there")
        if submission.outcome_unknown:
            raise ActionRefusedError(
                "an attempt may have created its issue already; cancel it after the next attempt"
            )
        return replace(
            submission,
            hold=Hold.CANCELLED,
            decisions=(*submission.decisions, Decision(OperatorAction.CANCEL, at, by, reason)),
        )

    return change
