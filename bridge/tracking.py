"""Choosing the issue tracker from settings."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bridge.ports import IssueTracker, TrackerHealth, TrackerNotConfiguredError
from bridge.settings import Settings

# Named in signatures only: a process with no GitHub credentials never builds them.
if TYPE_CHECKING:
    from bridge.tracker_values import (
        BoardItem,
        BoardItemState,
        BoardShape,
        IssueDraft,
        ProjectRef,
        TrackedIssue,
    )

MISSING_CREDENTIALS = (
    "no GitHub credentials: set GITHUB_APP_ID with GITHUB_APP_PRIVATE_KEY "
    "(or GITHUB_APP_PRIVATE_KEY_PATH), or GITHUB_TOKEN; submissions wait until then"
)


class UnconfiguredTracker:
    """Stands in for GitHub when no credentials are given: everything waits."""

    def __init__(self, detail: str = MISSING_CREDENTIALS) -> None:
        self._detail = detail

    def health(self) -> TrackerHealth:
        """Not configured, and what to set."""
        return TrackerHealth(configured=False, detail=self._detail)

    def pacing_key(self, repo: str) -> str:
        """One budget: nothing is created anyway."""
        return "unconfigured"

    def actor_login(self) -> str | None:
        """Nobody writes, so nobody to recognise."""
        return None

    def create_issue(self, draft: IssueDraft) -> TrackedIssue:
        """Refuse: there is nobody to create it as."""
        raise TrackerNotConfiguredError(self._detail)

    def find_issue_by_marker(
        self, repo: str, marker: str, *, created_since: datetime
    ) -> TrackedIssue | None:
        """Refuse, as for creating."""
        raise TrackerNotConfiguredError(self._detail)

    def iter_issues(
        self,
        repo: str,
        labels: Sequence[str],
        *,
        state: str = "all",
        since: datetime | None = None,
    ) -> Iterator[TrackedIssue]:
        """Refuse, as for creating."""
        raise TrackerNotConfiguredError(self._detail)

    def upsert_comment(
        self,
        repo: str,
        number: int,
        marker: str,
        body: str,
        *,
        create: bool = True,
        adopt: str | None = None,
    ) -> int | None:
        """Refuse, as for creating."""
        raise TrackerNotConfiguredError(self._detail)

    def canonical_issue(self, repo: str, number: int) -> tuple[str, int] | None:
        """Refuse, as for creating."""
        raise TrackerNotConfiguredError(self._detail)

    def repo_labels(self, repo: str) -> frozenset[str]:
        """Refuse, as for creating."""
        raise TrackerNotConfiguredError(self._detail)

    def add_labels(self, repo: str, number: int, labels: Sequence[str]) -> None:
        """Refuse, as for creating."""
        raise TrackerNotConfiguredError(self._detail)

    def add_to_board(
        self,
        project: ProjectRef,
        repo: str,
        number: int,
        *,
        node_id: str = "",
        votes: int | None = None,
    ) -> str:
        """Refuse, as for creating."""
        raise TrackerNotConfiguredError(self._detail)

    def set_board_votes(self, project: ProjectRef, repo: str, number: int, votes: int) -> bool:
        """Refuse, as for creating."""
        raise TrackerNotConfiguredError(self._detail)

    def iter_board_items(self, project: ProjectRef, repo: str) -> Iterator[BoardItem]:
        """Refuse, as for creating."""
        raise TrackerNotConfiguredError(self._detail)

    def read_board_item(
        self, repo: str, *, item_id: str, project_id: str, content_id: str
    ) -> BoardItemState:
        """Refuse, as for creating."""
        raise TrackerNotConfiguredError(self._detail)

    def board_shape(self, project: ProjectRef, repo: str) -> BoardShape:
        """Refuse, as for creating."""
        raise TrackerNotConfiguredError(self._detail)


def build_tracker(settings: Settings) -> IssueTracker:
    """The GitHub adapter when credentials are given, else the waiting stand-in.

    Secrets are read here, once per process (SSM or Secrets Manager included).
    """
    secrets = settings.secrets
    app_id = settings.github.app_id
    token = secrets.get("GITHUB_TOKEN")
    key = secrets.get("GITHUB_APP_PRIVATE_KEY")
    if key is None and settings.github.private_key_path:
        try:
            key = Path(settings.github.private_key_path).read_text(encoding="utf-8")
        except OSError as error:
            return UnconfiguredTracker(
                f"GITHUB_APP_PRIVATE_KEY_PATH={settings.github.private_key_path} cannot be read:"
                f" {error.strerror}"
            )
    if not (app_id or key or token):
        return UnconfiguredTracker()
    from github_app.client import GitHubIssueTracker

    return GitHubIssueTracker(
        api_url=settings.github.api_url, app_id=app_id, private_key_pem=key, token=token
    )
