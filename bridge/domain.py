"""The fixed vocabulary of Feature Bridge and the pure rules over it.

Everything here takes data and returns data: no I/O, no clock, no settings
lookups. Adapters and services call these rules; tests exercise them exhaustively.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from datetime import datetime

from msgspec import Struct, field


class Status(enum.StrEnum):
    """Canonical request status (SPEC §3)."""

    OPEN = "open"
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    DECLINED = "declined"
    DUPLICATE = "duplicate"

    @property
    def is_closed(self) -> bool:
        """Closed statuses accept no votes."""
        return self in CLOSED_STATUSES


CLOSED_STATUSES = frozenset({Status.COMPLETED, Status.DECLINED, Status.DUPLICATE})


class Source(enum.StrEnum):
    """The channel a request arrived through."""

    WIDGET = "widget"
    FORM = "form"
    GOOGLE_FORMS = "google_forms"
    API = "api"
    GITHUB = "github"


class Delivery(enum.StrEnum):
    """Where a submission stands on its way to GitHub, as its submitter is told."""

    QUEUED = "queued"
    DELIVERED = "delivered"
    # Waiting for an operator's review (SPEC §10); a rejected one is still told "held".
    HELD = "held"


# A submission's id (bridge.submissions.new_submission_id): 32 lowercase hex digits.
SUBMISSION_ID_PATTERN = r"^[0-9a-f]{32}$"


class UnknownSubmissionError(LookupError):
    """No submission (of that app) has this id."""


class ActionRefusedError(Exception):
    """An operator's action does not apply to the submission as it stands."""


class Hold(enum.StrEnum):
    """Why an undelivered submission is not being sent."""

    HELD = "held"  # waits for review
    REJECTED = "rejected"  # reviewed: never sent, kept
    DEAD = "dead"  # delivery failed for delivery_max_attempts: waits for an operator's retry
    CANCELLED = "cancelled"  # an operator took it back before it reached GitHub: kept


class OperatorAction(enum.StrEnum):
    """What an operator decided about a submission on its way to GitHub."""

    APPROVE = "approve"
    REJECT = "reject"
    RETRY = "retry"
    CANCEL = "cancel"


class Decision(Struct, frozen=True):
    """One recorded operator decision: what, when, through which route, and why."""

    action: OperatorAction
    at: datetime
    by: str  # "api" or "cli"
    reason: str | None = None


class SortOrder(enum.StrEnum):
    """Listing orders of the public API."""

    TOP = "top"
    NEW = "new"
    TRENDING = "trending"


# Board Status options understood without configuration (SPEC §3).
DEFAULT_BOARD_STATUS_OPTIONS: Mapping[str, Status] = {
    "Todo": Status.OPEN,
    "Backlog": Status.OPEN,
    "Planned": Status.PLANNED,
    "In Progress": Status.IN_PROGRESS,
    "Done": Status.COMPLETED,
}

_STATE_REASON_STATUS: Mapping[str | None, Status] = {
    None: Status.COMPLETED,
    "completed": Status.COMPLETED,
    "not_planned": Status.DECLINED,
    "duplicate": Status.DUPLICATE,
}


def status_of(
    *,
    state: str,
    state_reason: str | None,
    labels: Sequence[str],
    status_labels: Mapping[str, Status],
    board_option: str | None = None,
    board_options: Mapping[str, Status] = DEFAULT_BOARD_STATUS_OPTIONS,
) -> Status:
    """Derive the canonical status of an issue (SPEC §3 precedence).

    A closed issue's ``state_reason`` wins; then the board's Status option;
    then the first matching status label; else ``open``. ``reopened`` is an
    open state reason and falls through to the other rules.
    """
    if state == "closed":
        return _STATE_REASON_STATUS.get(state_reason, Status.COMPLETED)
    if board_option is not None and board_option in board_options:
        return board_options[board_option]
    for label in labels:
        if label in status_labels:
            return status_labels[label]
    return Status.OPEN


def belongs_to_app(issue_labels: Sequence[str], app_labels: Sequence[str]) -> bool:
    """An issue belongs to an app when it carries all of the app's labels.

    Labels compare case-insensitively, as GitHub compares them.
    """
    present = {label.casefold() for label in issue_labels}
    return all(label.casefold() in present for label in app_labels)


class AnalysisRecord(Struct, frozen=True):
    """A request's latest AI analysis as the index keeps it: the answer, or why there is none.

    ``fields`` is the validated ``Analysis`` as JSON (empty when it failed).
    """

    model_id: str
    analysed_at: datetime
    fields: Mapping[str, object] = field(default_factory=dict)
    error: str | None = None

    @property
    def failed(self) -> bool:
        """True when the model's answer was rejected (or the call refused)."""
        return self.error is not None

    @property
    def category(self) -> str | None:
        """The analysis's category, None when it failed."""
        value = self.fields.get("category")
        return value if isinstance(value, str) else None

    @property
    def priority(self) -> int | None:
        """The analysis's priority 1-10, None when it failed."""
        value = self.fields.get("priority")
        return value if isinstance(value, int) else None


class Request(Struct, frozen=True):
    """One feature request as the index knows it."""

    app: str
    number: int
    title: str
    status: Status
    url: str
    labels: tuple[str, ...]
    source: Source
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None
    submission_id: str | None = None
    github_thumbs_up: int = 0
    bridge_votes: int = 0
    weighted_votes: int = 0
    duplicate_of: int | None = None
    # Decayed activity in log space (bridge.ranking); 0 means "not computed yet".
    trend: float = 0.0
    # The issue card's Status option on the app's board; None when off the board or unset.
    board_option: str | None = None
    # Written only by the analysis job; GitHub's changes never touch it.
    analysis: AnalysisRecord | None = None
    # Kept for search (bridge.similar): the submission's text, or the issue body
    # without the bridge's footer and marker. None: not read here, the index keeps its own.
    description: str | None = None

    @property
    def total_votes(self) -> int:
        """👍 reactions and bridge votes counted together."""
        return self.github_thumbs_up + self.bridge_votes


class Vote(Struct, frozen=True):
    """One voter's vote on one request: ``(app, number, voter)`` is unique."""

    app: str
    number: int
    voter: str
    created_at: datetime
    weight: int = 1


def accepts_votes(status: Status) -> bool:
    """Votes on completed, declined or duplicate requests are refused."""
    return not status.is_closed


class SubmissionContent(Struct, frozen=True):
    """What a person submitted, validated; the private fields never reach GitHub."""

    title: str
    description: str = ""
    metadata: Mapping[str, str | int | float] = field(default_factory=dict)
    email: str | None = None
    name: str | None = None


class Submission(Struct, frozen=True):
    """A submission in the outbox, from acceptance until its issue exists."""

    id: str
    app: str
    source: Source
    content: SubmissionContent
    created_at: datetime
    delivery: Delivery = Delivery.QUEUED
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    number: int | None = None
    url: str | None = None
    voter: str | None = None
    voter_weight: int = 1
    # An earlier attempt ended without knowing whether GitHub made the issue
    # (timeout, dropped answer, crash): look for its marker before creating.
    outcome_unknown: bool = False
    # Set while the submission must not be sent (moderation); None: on its way.
    hold: Hold | None = None
    # The spam signals it tripped (bridge.moderation.signals) and every review decision.
    signals: tuple[str, ...] = ()
    decisions: tuple[Decision, ...] = ()

    @property
    def may_be_sent(self) -> bool:
        """Undelivered and not held back: delivery may try it."""
        return self.delivery is Delivery.QUEUED and self.hold is None

    @property
    def standing(self) -> Delivery:
        """What the submitter is told: delivered, held (also when rejected) or queued."""
        if self.delivery is Delivery.DELIVERED:
            return Delivery.DELIVERED
        return Delivery.HELD if self.hold in (Hold.HELD, Hold.REJECTED) else Delivery.QUEUED
