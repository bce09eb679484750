"""In-memory fakes of the ports, for domain and API tests."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from bridge.ports import (
    IssueDraft,
    Job,
    OutcomeUnknownError,
    TrackedIssue,
    TrackerError,
    TrackerHealth,
)


class FakeClock:
    """A clock that moves only when told."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class FakeTracker:
    """GitHub Issues in memory, with failures on demand."""

    def __init__(self, clock: FakeClock | None = None) -> None:
        self.clock = clock or FakeClock()
        self.issues: dict[str, list[TrackedIssue]] = {}
        self.creates = 0
        self.lookups = 0
        self.fail_next: list[TrackerError] = []
        self.drop_next_answers = 0
        self.lock = threading.Lock()
        self.comments: dict[tuple[str, int], dict[int, str]] = {}
        self.comment_writes = 0

    def health(self) -> TrackerHealth:
        return TrackerHealth(configured=True, detail="fake")

    def pacing_key(self, repo: str) -> str:
        return repo.split("/", maxsplit=1)[0]

    def actor_login(self) -> str | None:
        return "featurebridge[bot]"

    def create_issue(self, draft: IssueDraft) -> TrackedIssue:
        with self.lock:
            self.creates += 1
            if self.fail_next:
                raise self.fail_next.pop(0)
            repo_issues = self.issues.setdefault(draft.repo, [])
            issue = TrackedIssue(
                repo=draft.repo,
                number=len(repo_issues) + 1,
                url=f"https://github.com/{draft.repo}/issues/{len(repo_issues) + 1}",
                title=draft.title,
                state="open",
                state_reason=None,
                labels=draft.labels,
                created_at=self.clock(),
                updated_at=self.clock(),
                body=draft.body,
            )
            repo_issues.append(issue)
            if self.drop_next_answers:
                self.drop_next_answers -= 1
                raise OutcomeUnknownError("answer lost")
            return issue

    def find_issue_by_marker(
        self, repo: str, marker: str, *, created_since: datetime
    ) -> TrackedIssue | None:
        self.lookups += 1
        for issue in self.issues.get(repo, []):
            if marker in issue.body and issue.created_at >= created_since:
                return issue
        return None

    def iter_issues(self, repo: str, labels, *, state: str = "all"):  # type: ignore[no-untyped-def]
        self.pages = getattr(self, "pages", 0)
        issues = [i for i in self.issues.get(repo, []) if set(labels) <= set(i.labels)]
        self.pages += max(1, -(-len(issues) // 100))
        yield from issues

    def upsert_comment(  # type: ignore[no-untyped-def]
        self, repo: str, number: int, marker: str, body: str, *, create: bool = True
    ):
        comments = self.comments.setdefault((repo, number), {})
        for comment_id, text in comments.items():
            if marker in text:
                if text != body:
                    comments[comment_id] = body
                    self.comment_writes += 1
                return comment_id
        if not create:
            return None
        self.comment_writes += 1
        comment_id = len(comments) + 1
        comments[comment_id] = body
        return comment_id

    def canonical_issue(self, repo: str, number: int) -> tuple[str, int] | None:
        return None

    def repo_labels(self, repo: str) -> frozenset[str]:
        return frozenset(label for issue in self.issues.get(repo, []) for label in issue.labels)


class RecordingQueue:
    """A job queue that only remembers what it was given."""

    def __init__(self) -> None:
        self.jobs: list[Job] = []

    def enqueue(self, job: Job) -> None:
        self.jobs.append(job)

    def depth(self) -> int | None:
        return len(self.jobs)
