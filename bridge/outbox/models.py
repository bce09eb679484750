"""Pydantic models of the outbox routes; the OpenAPI description is built from them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from bridge.domain import Submission
from bridge.moderation.models import DecisionOut, decisions_out
from bridge.outbox.states import OutboxState, state_of

ListedState = Literal["pending", "retrying", "held", "rejected", "dead", "cancelled"]


class OutboxParams(BaseModel):
    """Query parameters of the pipeline listing."""

    model_config = ConfigDict(extra="ignore")

    state: ListedState = Field(
        default="pending",
        description="pending (never tried), retrying (backing off), held or rejected "
        "(moderation), dead (gave up after delivery_max_attempts) or cancelled",
    )
    app: Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{1,40}$")] | None = Field(
        default=None, description="one app only"
    )
    limit: Annotated[int, Field(ge=1, le=200)] = 50
    cursor: Annotated[str, StringConstraints(min_length=1, max_length=1000)] | None = Field(
        default=None, description="next_cursor of the previous page"
    )


class CancelIn(BaseModel):
    """Why a submission is cancelled (the body is optional)."""

    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


class OutboxItemOut(BaseModel):
    """A submission on its way to GitHub: never its text, email or name."""

    id: str = Field(description="the submission id")
    app: str
    state: OutboxState
    attempts: int = Field(description="delivery attempts so far")
    created_at: datetime
    next_attempt_at: datetime | None = Field(description="while pending or retrying")
    last_error: str | None = Field(description="why the last attempt failed")
    number: int | None = Field(default=None, description="its issue, once delivered")
    decisions: list[DecisionOut]


class OutboxListOut(BaseModel):
    """A page of one state of the pipeline."""

    items: list[OutboxItemOut]
    next_cursor: str | None


def outbox_item(submission: Submission) -> OutboxItemOut:
    """The operator's view of one submission's delivery."""
    state = state_of(submission)
    return OutboxItemOut(
        id=submission.id,
        app=submission.app,
        state=state,
        attempts=submission.attempts,
        created_at=submission.created_at,
        next_attempt_at=submission.next_attempt_at if state in ("pending", "retrying") else None,
        last_error=submission.last_error,
        number=submission.number,
        decisions=decisions_out(submission),
    )
