"""In-memory fakes of the ports, for domain and API tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from bridge.domain import Request, Source, Status, SubmissionContent
from bridge.ports import Job, OutcomeUnknownError, TrackerError, TrackerHealth
from bridge.runtime import Runtime
from bridge.submissions import accept
from bridge.tracker_values import (
    BoardItem,
    BoardItemState,
    BoardShape,
    IssueDraft,
    ProjectRef,
    TrackedIssue,
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
        self.added_labels: dict[tuple[str, int], list[str]] = {}
        # Boards: (owner, number) -> {(repo, number): {"id", "status", "votes"}}.
        self.boards: dict[tuple[str, int], dict[tuple[str, int], dict[str, Any]]] = {}
        self.board_writes = 0
        self.board_cards: dict[str, BoardItemState] = {}  # what read_board_item answers

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

    def iter_issues(self, repo: str, labels, *, state: str = "all", since=None):  # type: ignore[no-untyped-def]
        self.pages = getattr(self, "pages", 0)
        issues = [i for i in self.issues.get(repo, []) if set(labels) <= set(i.labels)]
        issues = [i for i in issues if since is None or i.updated_at >= since]
        self.pages += max(1, -(-len(issues) // 100))
        yield from issues

    def upsert_comment(  # type: ignore[no-untyped-def]
        self,
        repo: str,
        number: int,
        marker: str,
        body: str,
        *,
        create: bool = True,
        adopt: str | None = None,
    ):
        comments = self.comments.setdefault((repo, number), {})
        found = [i for i, text in comments.items() if marker in text]
        found += [i for i, text in comments.items() if adopt is not None and adopt in text]
        for comment_id in found[:1]:
            if comments[comment_id] != body:
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

    def add_labels(self, repo: str, number: int, labels) -> None:  # type: ignore[no-untyped-def]
        self.added_labels.setdefault((repo, number), []).extend(labels)

    def repo_labels(self, repo: str) -> frozenset[str]:
        return frozenset(label for issue in self.issues.get(repo, []) for label in issue.labels)

    def board(self, project: ProjectRef) -> dict[tuple[str, int], dict[str, Any]]:
        return self.boards.setdefault((project.owner.lower(), project.number), {})

    def add_to_board(  # type: ignore[no-untyped-def]
        self, project: ProjectRef, repo: str, number: int, *, node_id="", votes=None
    ) -> str:
        card = self.board(project).setdefault(
            (repo, number), {"id": f"PVTI_{repo}#{number}", "status": None, "votes": None}
        )
        self.board_writes += 1
        if votes is not None:
            card["votes"] = votes
            self.board_writes += 1
        return str(card["id"])

    def set_board_votes(self, project: ProjectRef, repo: str, number: int, votes: int) -> bool:
        card = self.board(project).get((repo, number))
        if card is None:
            return False
        if card["votes"] != votes:
            card["votes"] = votes
            self.board_writes += 1
        return True

    def iter_board_items(self, project: ProjectRef, repo: str) -> Iterator[BoardItem]:
        for (card_repo, number), card in self.board(project).items():
            yield BoardItem(card_repo, number, card["status"])

    def read_board_item(
        self, repo: str, *, item_id: str, project_id: str, content_id: str
    ) -> BoardItemState:
        return self.board_cards.get(item_id, BoardItemState(None, None, False, None))

    def board_shape(self, project: ProjectRef, repo: str) -> BoardShape:
        return BoardShape(
            owner="organization",
            found=True,
            status_type="SINGLE_SELECT",
            status_options=("Todo", "In Progress", "Done"),
            votes_type="NUMBER",
        )


class RecordingQueue:
    """A job queue that only remembers what it was given."""

    def __init__(self) -> None:
        self.jobs: list[Job] = []
        self.delays: list[float] = []

    def enqueue(self, job: Job, *, delay_seconds: float = 0) -> None:
        self.jobs.append(job)
        self.delays.append(delay_seconds)

    def depth(self) -> int | None:
        return len(self.jobs)


def submit(runtime: Runtime, title: str = "Dark mode", app_id: str = "mobile") -> str:
    """Accept a submission into the outbox the way the API does; return its id."""
    app = runtime.settings.app(app_id)
    assert app is not None
    submission, _ = accept(
        runtime,
        app,
        SubmissionContent(title=title),
        source=Source.API,
        idempotency_key=None,
        body_fingerprint="",
    )
    return submission.id


def indexed(
    number: int,
    title: str,
    status: Status = Status.OPEN,
    votes: int = 0,
    *,
    app: str = "mobile",
    at: datetime | None = None,
) -> Request:
    """A request as the index holds it, for seeding listings and pages."""
    when = at or datetime(2026, 1, 2, tzinfo=UTC)
    return Request(
        app=app,
        number=number,
        title=title,
        status=status,
        url=f"https://github.com/acme/{app}/issues/{number}",
        labels=("feature-request", f"app:{app}"),
        source=Source.WIDGET,
        created_at=when,
        updated_at=when,
        bridge_votes=votes,
    )
