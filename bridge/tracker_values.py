"""What the ``IssueTracker`` port (:mod:`bridge.ports`) takes and gives: issues and boards.

Apart from the port so that a process that never talks to GitHub (a cold
start answering ``/healthz`` or a listing) does not build these classes.
"""

from __future__ import annotations

from datetime import datetime

from msgspec import Struct


class IssueDraft(Struct, frozen=True):
    """An issue to create: what GitHub will show, and the marker to find it again."""

    repo: str
    title: str
    body: str
    labels: tuple[str, ...]
    marker: str


class TrackedIssue(Struct, frozen=True):
    """An issue as GitHub reports it."""

    repo: str
    number: int
    url: str
    title: str
    state: str
    state_reason: str | None
    labels: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None
    # None when GitHub's answer carried no reactions rollup: keep what is known.
    thumbs_up: int | None = None
    # None when GitHub's answer did not carry the body (GraphQL board reads).
    body: str | None = None
    # GraphQL node id (adding the issue to a board needs it); "" when unknown.
    node_id: str = ""


class ProjectRef(Struct, frozen=True):
    """A GitHub Projects (v2) board: the organization that owns it, and its number."""

    owner: str
    number: int


class BoardItem(Struct, frozen=True):
    """An issue's card on a board, and the card's Status option (None when unset)."""

    repo: str
    number: int
    status: str | None


class BoardItemState(Struct, frozen=True):
    """A card a ``projects_v2_item`` webhook names, as GitHub shows it now."""

    project: ProjectRef | None  # None: not an organization board the tracker can read
    issue: TrackedIssue | None  # None: a draft issue, a pull request, or out of reach
    on_board: bool  # False once the card is deleted or archived
    status: str | None


class BoardShape(Struct, frozen=True):
    """What ``doctor`` checks on a board."""

    owner: str  # "organization", "user" (App tokens cannot reach its boards) or "missing"
    found: bool  # the board exists and the tracker can read it
    status_type: str | None = None  # data type of the field named Status; None: no such field
    status_options: tuple[str, ...] = ()
    votes_type: str | None = None  # data type of the field named Votes; None: no such field
