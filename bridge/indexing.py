"""How a GitHub issue becomes (or updates) an index entry: a pure rule."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Final

from bridge.domain import Request, Source, Status, belongs_to_app, status_of
from bridge.ranking import trend_add, trend_seed
from bridge.settings import AppConfig
from bridge.tracker_values import TrackedIssue
from github_app.render import issue_description


class _Keep(enum.Enum):
    KEEP = enum.auto()


# ``board_option=KEEP``: the caller did not read the board; use what the index knows.
KEEP: Final = _Keep.KEEP


def indexed_request(
    app: AppConfig,
    issue: TrackedIssue,
    existing: Request | None,
    *,
    now: datetime,
    board_option: str | _Keep | None = KEEP,
) -> Request:
    """The index entry for ``issue`` in ``app``, keeping what only the bridge knows.

    GitHub owns the title, state, labels, 👍 and the board's Status option; the
    bridge owns its votes, the source and the submission. A 👍 count GitHub did
    not report is kept; 👍 seen for the first time count toward trending as of
    now. ``board_option`` is the card's Status option as just read from the
    app's board (None: off the board or unset); by default the index's is kept.
    """
    if board_option is KEEP:
        board_option = existing.board_option if existing else None
    if app.project is None:
        board_option = None
    status = status_of(
        state=issue.state,
        state_reason=issue.state_reason,
        labels=issue.labels,
        status_labels=app.status_labels,
        board_option=board_option,
        board_options=app.project.board_options() if app.project else {},
    )
    thumbs = issue.thumbs_up
    if thumbs is None:
        thumbs = existing.github_thumbs_up if existing else 0
    if existing is None:
        trend = trend_add(trend_seed(issue.created_at), issue.created_at, thumbs)
    else:
        trend = existing.trend or trend_seed(existing.created_at)
        trend = trend_add(trend, now, thumbs - existing.github_thumbs_up)
    return Request(
        app=app.id,
        number=issue.number,
        title=issue.title,
        status=status,
        url=issue.url,
        labels=issue.labels,
        source=existing.source if existing else Source.GITHUB,
        created_at=issue.created_at,
        updated_at=issue.updated_at,
        closed_at=issue.closed_at if issue.state == "closed" else None,
        submission_id=existing.submission_id if existing else None,
        github_thumbs_up=thumbs,
        bridge_votes=existing.bridge_votes if existing else 0,
        weighted_votes=existing.weighted_votes if existing else 0,
        duplicate_of=existing.duplicate_of if existing and status is Status.DUPLICATE else None,
        trend=trend,
        board_option=board_option,
        description=issue_description(issue.body) if issue.body is not None else None,
    )


def apps_of_issue(
    apps: tuple[AppConfig, ...], repo: str, labels: tuple[str, ...]
) -> list[AppConfig]:
    """Every app of ``repo`` whose labels the issue carries (several apps may share a repo)."""
    return [
        app
        for app in apps
        if app.repo.lower() == repo.lower() and belongs_to_app(labels, app.labels)
    ]
