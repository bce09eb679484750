"""Pydantic models of the moderation routes; the OpenAPI description is built from them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from bridge.domain import Hold, Source, Submission

ReviewState = Literal["held", "rejected"]


class ReviewParams(BaseModel):
    """Query parameters of the review queue."""

    model_config = ConfigDict(extra="ignore")

    state: ReviewState = Field(default="held", description="held (default) or rejected")
    limit: Annotated[int, Field(ge=1, le=100)] = 50
    cursor: Annotated[str, StringConstraints(min_length=1, max_length=1000)] | None = Field(
        default=None, description="next_cursor of the previous page"
    )


class DecisionIn(BaseModel):
    """An operator's note on an approval or a rejection (the body is optional)."""

    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = Field(
        default=None, description="why, for the record; never shown to the submitter"
    )


class DecisionOut(BaseModel):
    """One recorded decision."""

    action: Literal["approve", "reject", "retry", "cancel"]
    at: datetime
    by: str = Field(description="api or cli: which operator action made it (delivery: dead)")
    reason: str | None


class ReviewItemOut(BaseModel):
    """A submission as its reviewer sees it: the content, never the submitter's email or name."""

    id: str = Field(description="the submission id")
    app: str
    state: Literal["held", "rejected", "approved"] = Field(
        description="approved ones are on their way to GitHub (or there; the outbox says)"
    )
    source: Source
    title: str
    description: str
    created_at: datetime
    signals: list[str] = Field(
        description="the spam signals that held it: honeypot, too_fast, "
        "bad_render_time, links, repeat, blocked_word, blocked_domain (empty when the app "
        "holds every submission)"
    )
    decisions: list[DecisionOut]
    number: int | None = Field(default=None, description="its issue, once delivered")


class ReviewListOut(BaseModel):
    """A page of the review queue, oldest first."""

    items: list[ReviewItemOut]
    next_cursor: str | None


class FormTokenOut(BaseModel):
    """A signed render time for the widget or the hosted form to send with its submission."""

    form_token: str = Field(description="send it back as the submission's form_token")


def review_item(submission: Submission) -> ReviewItemOut:
    """The reviewer's view of one submission."""
    state: Literal["held", "rejected", "approved"] = (
        "approved"
        if submission.hold is None
        else "rejected"
        if submission.hold is Hold.REJECTED
        else "held"
    )
    return ReviewItemOut(
        id=submission.id,
        app=submission.app,
        state=state,
        source=submission.source,
        title=submission.content.title,
        description=submission.content.description,
        created_at=submission.created_at,
        signals=list(submission.signals),
        decisions=decisions_out(submission),
        number=submission.number,
    )


def decisions_out(submission: Submission) -> list[DecisionOut]:
    """Every operator decision on a submission, oldest first."""
    return [
        DecisionOut(action=d.action.value, at=d.at, by=d.by, reason=d.reason)
        for d in submission.decisions
    ]
