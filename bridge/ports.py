"""Narrow ports to the outside world, named for what the domain needs.

Each port is a Protocol; production adapters live in ``bridge/stores``,
``github_app`` and ``bridge/queues``; tests pass in-memory fakes or real engines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from msgspec import Struct, field

from bridge.domain import AnalysisRecord, Hold, Request, SortOrder, Status, Submission, Vote

if TYPE_CHECKING:
    from bridge.analysis.model import AnalysisInput, AnalysisOutcome
    from bridge.embeddings.values import Embedding, Neighbour
    from bridge.export import Row
    from bridge.notify.email.model import Subscriber
    from bridge.notify.model import NotificationDelivery
    from bridge.privacy.forget import ForgetReport
    from bridge.tracker_values import (
        BoardItem,
        BoardItemState,
        BoardShape,
        IssueDraft,
        ProjectRef,
        TrackedIssue,
    )

# --------------------------------------------------------------------------- errors


class StoreError(Exception):
    """The index store could not do what was asked (it is down, or broken)."""


class IdempotencyConflictError(Exception):
    """An Idempotency-Key was reused with a different body."""

    def __init__(self, submission_id: str) -> None:
        super().__init__(f"Idempotency-Key already used for submission {submission_id}")
        self.submission_id = submission_id


class RateLimitedError(Exception):
    """A rate-limit window is spent: nothing was stored."""

    def __init__(self, hit: RateHit) -> None:
        super().__init__(f"rate limit {hit.limit} per {hit.window_seconds} s spent")
        self.hit = hit


class InvalidCursorError(ValueError):
    """A listing cursor that this store did not hand out."""


class TrackerError(Exception):
    """GitHub did not do what was asked; ``retry_after`` says when to try again."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TrackerNotConfiguredError(TrackerError):
    """No GitHub credentials: delivery waits until they are given."""


class OutcomeUnknownError(TrackerError):
    """A write may or may not have happened (timeout, dropped connection)."""


# --------------------------------------------------------------------------- index store

# At most one tally write per issue in this interval; later votes wait for the next.
TALLY_INTERVAL = timedelta(minutes=1)

# How long a webhook delivery id is remembered: GitHub offers manual
# redelivery of the last three days' deliveries.
DELIVERY_TTL = timedelta(days=7)


class IdempotencyClaim(Struct, frozen=True):
    """An Idempotency-Key with the fingerprint of the body it was first used with."""

    key: str
    fingerprint: str
    expires_at: datetime


class RateHit(Struct, frozen=True):
    """One hit on a fixed-window counter (as ``hit_rate_limit`` counts), allowed ``limit``
    times per window."""

    key: str
    window_seconds: int
    limit: int


class RepeatCheck(Struct, frozen=True):
    """One sight of a submission's text from its sender, counted like a :class:`RateHit`;
    seen before within the window, the submission is stored with this hold and signals."""

    key: str
    window_seconds: int
    hold: Hold | None
    signals: tuple[str, ...]


class ListQuery(Struct, frozen=True):
    """A page of an app's listing."""

    app: str
    sort: SortOrder = SortOrder.TOP
    status: Status | None = None
    words: tuple[str, ...] = ()
    limit: int = 20
    cursor: str | None = None


class Page(Struct, frozen=True):
    """Requests of one listing page; ``next_cursor`` is opaque to callers.

    A page may hold fewer than ``limit`` items (even none) while ``next_cursor``
    is set: a store may bound the work per page. Only ``next_cursor is None``
    means the listing is done.
    """

    items: Sequence[Request]
    next_cursor: str | None


class ExportPage(Struct, frozen=True):
    """Rows of one export page, as :class:`Page` holds requests (same cursor rules)."""

    rows: Sequence[Row]
    next_cursor: str | None


class SimilarMatch(Struct, frozen=True):
    """A request like a draft, and how alike they are: 0–1, higher is closer."""

    request: Request
    score: float


class InstallationChange(Struct, frozen=True):
    """Repositories an App installation gained or lost."""

    installation_id: int
    account: str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    uninstalled: bool = False


class GitHubChanges(Struct, frozen=True):
    """What one webhook delivery, or one step of a sync, changes in the index.

    ``synced`` requests are inserted, or only their GitHub-owned fields are
    updated (title, status, labels, url, timestamps, 👍, duplicate_of, board
    option): the bridge's own counts (votes, source, submission) are never
    overwritten.
    """

    synced: Sequence[Request] = ()
    removed: Sequence[tuple[str, int]] = ()
    installation: InstallationChange | None = None

    def __bool__(self) -> bool:
        return bool(self.synced or self.removed or self.installation)


class SyncMarks(Struct, frozen=True):
    """Where an app's reconciliation stands.

    ``since``: when the last complete pass (full or incremental) started, so the
    next incremental pass asks GitHub for issues updated since then; ``full_at``:
    when the last complete full pass started. None: never.
    """

    since: datetime | None = None
    full_at: datetime | None = None


class TallyDue(Struct, frozen=True):
    """A request whose vote tally on GitHub is behind its votes."""

    app: str
    number: int
    version: int


class OutboxStats(Struct, frozen=True):
    """How much waits to reach GitHub."""

    pending: int
    oldest_created_at: datetime | None


class SubmissionPage(Struct, frozen=True):
    """A page of submissions and the opaque position after it (None: no more)."""

    items: Sequence[Submission]
    next_cursor: str | None


# Given the submission as stored, the changed one to store, or None to change nothing.
HoldChange = Callable[[Submission], Submission | None]


class IndexStore(Protocol):
    """The index: requests, the submission outbox, idempotency keys, counters.

    Expiring records are absent once ``now`` has passed their expiry, whatever
    the engine's own TTL sweeping does.
    """

    def ping(self) -> None:
        """Raise StoreError when the store cannot answer."""

    def diagnose(self) -> list[str]:
        """What ``doctor`` should report about the store's layout, each with its fix."""

    def create_submission(
        self,
        submission: Submission,
        *,
        idempotency: IdempotencyClaim | None,
        now: datetime,
        rate: RateHit | None = None,
        repeat: RepeatCheck | None = None,
        lease_until: datetime | None = None,
    ) -> tuple[Submission, bool]:
        """Store a new submission, or return the one its key already made.

        Returns ``(submission, created)``; raises IdempotencyConflictError when
        the key is live and was used with another fingerprint. ``rate`` counts
        the call against its window first (as ``hit_rate_limit`` does) and raises
        RateLimitedError, storing nothing more, beyond its limit; ``repeat``
        counts the text next and, when it was seen before, stores the
        submission with the check's hold and signals instead of its own. With
        ``lease_until`` a new submission is stored leased to the caller for its
        first attempt, as ``claim_submission`` would lease it, so that it can be
        delivered at once without another write.
        """

    def get_submission(self, submission_id: str) -> Submission | None:
        """The submission with this id, delivered or not."""

    def due_submissions(self, *, now: datetime, limit: int) -> Sequence[Submission]:
        """Undelivered submissions whose next attempt is due, oldest first."""

    def claim_submission(
        self, submission_id: str, *, now: datetime, lease_until: datetime
    ) -> Submission | None:
        """Lease an undelivered submission for one delivery attempt.

        Returns None when it is delivered or leased by another worker; a lease
        that has run out can be claimed again.
        """

    def record_failed_attempt(
        self,
        submission_id: str,
        *,
        error: str,
        next_attempt_at: datetime,
        outcome_unknown: bool = False,
    ) -> None:
        """Release the lease and schedule the next attempt.

        ``outcome_unknown`` says the attempt may have created the issue; a
        lease that runs out (a crashed worker) counts as unknown too.
        """

    def postpone(self, submission_id: str, *, until: datetime) -> None:
        """Move an undelivered submission's next attempt without spending an attempt."""

    def release_lease(self, submission_id: str, *, until: datetime) -> None:
        """Give back the lease of an attempt that never started (``create_submission``'s
        first lease, when GitHub's budget says wait): the attempt is not counted, nothing
        is in flight, and the next attempt is due at ``until``."""

    def mark_delivered(self, submission_id: str, request: Request) -> None:
        """Record the issue and add the request to the index, in one transaction."""

    def outbox_stats(self) -> OutboxStats:
        """Sendable undelivered submissions (not held back): how many and since when."""

    def queue_is_full(self, app: str, cap: int) -> bool:
        """Whether ``app`` has at least ``cap`` sendable submissions waiting for GitHub."""

    def change_hold(self, submission_id: str, change: HoldChange) -> Submission | None:
        """Apply ``change`` to an undelivered submission's hold, signals and decisions.

        Compare-and-set: ``change`` sees the stored submission, and its answer is
        stored only if nobody changed the submission meanwhile (else it is asked
        again). A hold lifted makes the submission due now. Returns the
        submission as stored afterwards; None when there is no such submission.
        """

    def held_submissions(
        self, app: str, hold: Hold, *, limit: int, cursor: str | None
    ) -> SubmissionPage:
        """An app's submissions held back for ``hold``, oldest first, a page at a time."""

    def sendable_submissions(
        self, *, retrying: bool, limit: int, cursor: str | None
    ) -> SubmissionPage:
        """Submissions on their way to GitHub, by next attempt: never tried yet
        (``retrying=False``) or tried and failed (``retrying=True``)."""

    def outbox_depths(self, apps: Sequence[str]) -> dict[str, int]:
        """How many undelivered submissions are in each state: ``pending``, ``retrying``
        and, for each of ``apps``, every :class:`Hold` (operators' view; reads the backlog)."""

    def upsert_request(self, request: Request) -> None:
        """Insert or replace a request of the index."""

    def get_request(self, app: str, number: int) -> Request | None:
        """One request of the index."""

    def list_requests(self, query: ListQuery) -> Page:
        """A page of an app's requests; raises InvalidCursorError for a bad cursor."""

    # -- similar requests (bridge.similar)

    def similar(
        self, app: str, title: str, description: str = "", *, limit: int = 5
    ) -> Sequence[SimilarMatch]:
        """The app's requests most like a draft, best first, at most ``limit``.

        Open and closed requests of ``app`` only; a duplicate is replaced by its
        original. Any text is accepted (punctuation, query syntax, 60,000
        characters): it is searched for, never interpreted.
        """

    def similar_mode(self) -> str:
        """``"fts"`` (full-text search with BM25) or ``"basic"`` (a bounded title-word match)."""

    def described(self, app: str) -> set[int]:
        """Numbers of the app's requests whose index holds a non-empty description."""

    def description(self, app: str, number: int) -> str | None:
        """The description the index keeps for one request ("" when it has none), or None
        when the request is not in the index."""

    # -- personal data (featurebridge forget)

    def drop_personal_data(self, *, before: datetime) -> int:
        """Drop the email and name of submissions created before ``before``; return how many
        submissions held either."""

    def forget_person(self, address: str, *, dry_run: bool = False) -> ForgetReport:
        """Erase a (normalised) email address wherever the index keeps it: submissions lose
        it and its name, texts lose the address, voter keys holding it become opaque (the
        votes stay counted). With ``dry_run`` only count."""

    # -- export (GET /v1/export, featurebridge export)

    def export_rows(
        self,
        *,
        apps: Sequence[str],
        status: Status | None,
        updated_since: datetime | None,
        limit: int,
        cursor: str | None,
    ) -> ExportPage:
        """A page of export rows of the requests of ``apps``, ordered by app id then number.

        Each row is what :func:`bridge.export.export_row` makes of the request; a
        store may compute it without building the ``Request``.

        Only requests with ``status`` (when given) and ``updated_at >=
        updated_since`` (when given). At most ``limit`` rows; ``next_cursor``
        (opaque) continues after the page's last item, and paging with the same
        arguments visits every matching request once. No apps: an empty page.
        Raises InvalidCursorError for a cursor this store did not hand out.
        """

    def hit_rate_limit(self, key: str, *, window_seconds: int, now: datetime) -> int:
        """Count one hit in the current fixed window of ``key``; return the count."""

    def record_github_changes(
        self, changes: GitHubChanges, *, delivery_id: str | None, now: datetime
    ) -> bool:
        """Apply changes from GitHub in one transaction.

        With a delivery id, at most once: the id is stored in the same
        transaction as the effect (kept for DELIVERY_TTL), so a repeat has no
        second effect and a redelivery after a failure still heals. Returns
        False when the delivery had already been applied.
        """

    def sync_marks(self, app: str) -> SyncMarks:
        """The app's sync marks (both None before its first complete pass)."""

    def record_sync(self, app: str, marks: SyncMarks) -> None:
        """Keep ``marks`` as the app's sync marks, replacing the previous ones."""

    def installed_repos(self) -> frozenset[str]:
        """Repositories the GitHub App is installed on, as webhooks reported them."""

    def add_vote(self, vote: Vote) -> tuple[Request, bool] | None:
        """Record a vote unless the voter already voted; counters move atomically.

        Returns the request afterwards and whether the vote is new, or None
        when the request is not in the index. A new vote raises the request's
        tally version and adds a trending event at ``vote.created_at``.
        """

    def remove_vote(
        self, app: str, number: int, voter: str, *, now: datetime
    ) -> tuple[Request, bool] | None:
        """Take a voter's vote back; returns the request and whether there was one."""

    def voted(self, app: str, voter: str, numbers: Sequence[int]) -> frozenset[int]:
        """Which of ``numbers`` the voter has voted for."""

    def move_votes(self, app: str, source: int, target: int, *, now: datetime) -> int:
        """Move every vote of ``source`` to ``target`` in one transaction.

        A voter who voted for both keeps one vote on ``target`` (union, no
        double count); both requests' counters and tally versions follow.
        Returns how many votes ``target`` gained.
        """

    def due_tallies(self, *, now: datetime, limit: int) -> Sequence[TallyDue]:
        """Requests with bridge votes whose tally on GitHub is behind and was not
        written in the last TALLY_INTERVAL (bursts coalesce into one write)."""

    def record_tally(self, app: str, number: int, *, version: int, now: datetime) -> None:
        """The tally as of ``version`` is on GitHub now."""

    def record_analysis(self, app: str, number: int, record: AnalysisRecord) -> bool:
        """Keep ``record`` as the request's analysis (nothing else changes).

        Returns False when the request is not in the index.
        """

    def add_to_counter(
        self, key: str, amount: int, *, limit: int | None, expires_at: datetime
    ) -> bool:
        """Add ``amount`` to a counter shared by every process, atomically.

        With ``limit``, a positive ``amount`` that would take the total past it
        is refused (False) and nothing changes. The counter may vanish after
        ``expires_at``.
        """

    def read_counter(self, key: str) -> int:
        """A counter's value; 0 when it was never added to."""

    # -- outgoing events (bridge.notify)

    def claim_event(self, key: str, *, now: datetime, expires_at: datetime) -> bool:
        """Claim an event's key for every process; False while a live claim holds it."""

    def add_notification(self, delivery: NotificationDelivery) -> bool:
        """Store a new delivery; False when one with its id exists."""

    def claim_notification(
        self, delivery_id: str, *, now: datetime, lease_until: datetime
    ) -> NotificationDelivery | None:
        """Lease a pending delivery that is due for one attempt: its next attempt moves
        to ``lease_until``. None when it is not pending, not due, or leased."""

    def save_notification(self, delivery: NotificationDelivery) -> None:
        """Record an attempt's outcome (state, attempts, error, next attempt)."""

    def due_notifications(self, *, now: datetime, limit: int) -> Sequence[str]:
        """Ids of pending deliveries whose next attempt is due."""

    def recent_notifications(
        self, *, limit: int, state: str | None = None
    ) -> Sequence[NotificationDelivery]:
        """The latest deliveries, newest first; only those in ``state`` when given."""

    # -- email subscriptions (bridge.notify.email)

    def subscribe(
        self, subscriber: Subscriber, *, topic: str, voter: str
    ) -> tuple[Subscriber, bool]:
        """Keep ``subscriber`` unless its app has one of that address already, and make
        that one follow ``topic`` as ``voter``. A confirmed (trusted) address confirms an
        existing one and subscribes it again. Returns the stored subscriber and whether it
        is new."""

    def get_subscriber(self, subscriber_id: str) -> Subscriber | None:
        """The subscriber with this id."""

    def confirm_subscriber(self, subscriber_id: str) -> Subscriber | None:
        """Its owner confirmed the address; None when there is no such subscriber."""

    def unsubscribe(self, subscriber_id: str) -> Subscriber | None:
        """No more email to this subscriber; None when there is no such subscriber."""

    def unfollow(self, app: str, topic: str, voter: str) -> None:
        """``voter`` no longer follows ``topic`` (an unvote)."""

    def drop_ended_subscriptions(self, *, before: datetime) -> int:
        """Erase the subscribers whose subscription ended (unsubscribed), and those never
        confirmed that were made before ``before``, with what they follow; how many.
        Live subscriptions keep their addresses (``retain_personal_days``)."""

    def copy_follows(self, app: str, topics: Sequence[str], to: str) -> int:
        """Make everyone following any of ``topics`` follow ``to`` too (a duplicate's
        followers and its original); a voter already following ``to`` keeps that.
        Returns how many follows were added."""

    def followers(self, app: str, topics: Sequence[str]) -> Sequence[Subscriber]:
        """Confirmed, subscribed subscribers following any of ``topics``, each once, none
        whose address is suppressed."""

    def suppress_address(self, address: str, *, reason: str, now: datetime) -> None:
        """Never email this address again, in any app (bounces, complaints)."""

    def is_suppressed(self, address: str) -> bool:
        """Whether the address is suppressed."""


# --------------------------------------------------------------------------- issue tracker


class TrackerHealth(Struct, frozen=True):
    """Whether the issue tracker can be used, and if not, why."""

    configured: bool
    detail: str


class IssueTracker(Protocol):
    """GitHub Issues, seen from the domain."""

    def health(self) -> TrackerHealth:
        """Configured or not, without calling GitHub."""

    def pacing_key(self, repo: str) -> str:
        """Which content-creation budget a write to ``repo`` spends (its installation)."""

    def actor_login(self) -> str | None:
        """The login GitHub shows on the bridge's own writes (``slug[bot]``), if known."""

    def create_issue(self, draft: IssueDraft) -> TrackedIssue:
        """Create the issue with its labels (creating missing labels first)."""

    def find_issue_by_marker(
        self, repo: str, marker: str, *, created_since: datetime
    ) -> TrackedIssue | None:
        """Look through the repo's recent issues (not search) for the marker."""

    def iter_issues(
        self,
        repo: str,
        labels: Sequence[str],
        *,
        state: str = "all",
        since: datetime | None = None,
    ) -> Iterator[TrackedIssue]:
        """Every issue (not pull request) carrying all ``labels``, 100 per request;
        with ``since``, only those GitHub last updated at or after it (a 👍 does not
        update an issue)."""

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
        """Edit the bridge's own comment holding ``marker`` (unchanged: no write) or, failing
        that, its comment holding the former marker ``adopt``; else create it when
        ``create``. Returns the comment id, or None when there was none to edit."""

    def canonical_issue(self, repo: str, number: int) -> tuple[str, int] | None:
        """``(repo, number)`` of the issue this one was closed as a duplicate of."""

    def repo_labels(self, repo: str) -> frozenset[str]:
        """The repo's label names; TrackerError when the repo cannot be reached."""

    def add_labels(self, repo: str, number: int, labels: Sequence[str]) -> None:
        """Add existing ``labels`` to the issue (labels it has already are kept)."""

    # -- GitHub Projects (v2) boards. ``repo`` is the app's repository: its
    # installation's token is the one that reads and writes the board.

    def add_to_board(
        self,
        project: ProjectRef,
        repo: str,
        number: int,
        *,
        node_id: str = "",
        votes: int | None = None,
    ) -> str:
        """Put the issue on the board (a card already there is kept) and, when ``votes``
        is given, set the card's Votes field; returns the card's id."""

    def set_board_votes(self, project: ProjectRef, repo: str, number: int, votes: int) -> bool:
        """Set the Votes field of the issue's card (unchanged: no write); False when the
        issue is not on the board or the board has no Votes number field."""

    def iter_board_items(self, project: ProjectRef, repo: str) -> Iterator[BoardItem]:
        """Every issue card on the board that is not archived, 100 per read."""

    def read_board_item(
        self, repo: str, *, item_id: str, project_id: str, content_id: str
    ) -> BoardItemState:
        """The card, its board and its issue, by the node ids a webhook carries (one read)."""

    def board_shape(self, project: ProjectRef, repo: str) -> BoardShape:
        """Who owns the board and which Status and Votes fields it has."""


# --------------------------------------------------------------------------- job queue


class Job(Struct, frozen=True):
    """A unit of background work; ``kind`` names its handler in ``bridge.jobs``."""

    kind: str
    payload: dict[str, Any] = field(default_factory=dict)


class JobQueue(Protocol):
    """Where slow work goes: a thread under ``serve``, SQS on Lambda."""

    def enqueue(self, job: Job, *, delay_seconds: float = 0) -> None:
        """Hand the job over, to run no sooner than ``delay_seconds`` from now.

        The outbox sweep recovers anything a queue loses; a delay lets work that
        is backing off come back when it is due rather than at the next sweep.
        """

    def depth(self) -> int | None:
        """Jobs waiting, or None when the queue cannot tell cheaply."""


# --------------------------------------------------------------------------- analysis


class AnalysisUnavailableError(Exception):
    """The model service is busy or down for now; try the analysis again later."""

    def __init__(self, message: str, *, tokens: int = 0) -> None:
        super().__init__(message)
        self.tokens = tokens


class Analyzer(Protocol):
    """A model that triages one request (Amazon Bedrock in production)."""

    def analyse(self, request: AnalysisInput) -> AnalysisOutcome:
        """Analyse one request; raises ``AnalysisUnavailableError``."""
        ...

    def check_access(self) -> str:
        """One cheap call proving the model answers; returns what was reached."""
        ...


# --------------------------------------------------------------------------- embeddings


class EmbeddingUnavailableError(Exception):
    """The embedding model is busy or down for now; try again later."""


class EmbeddingRefusedError(Exception):
    """The embedding model refused the call (access, validation, quota): retrying will not help."""


class Embedder(Protocol):
    """A model that turns text into a vector (Amazon Bedrock in production)."""

    @property
    def key(self) -> str:
        """The model and dimensions: vectors under different keys are not comparable."""
        ...

    def embed(self, text: str) -> Embedding:
        """The text's embedding; raises ``EmbeddingUnavailableError`` or
        ``EmbeddingRefusedError``."""
        ...


class VectorStoreError(Exception):
    """The vector index could not do what was asked (down, refused or misconfigured)."""


class VectorIndex(Protocol):
    """Each request's embedding, searched by cosine similarity within its app."""

    def put(self, app: str, number: int, vector: Sequence[float]) -> None:
        """Keep (or replace) the vector of one request; raises ``VectorStoreError``."""

    def nearest(self, app: str, vector: Sequence[float], *, limit: int) -> list[Neighbour]:
        """The app's ``limit`` requests nearest to ``vector``, nearest first; raises
        ``VectorStoreError``."""
        ...

    def problem(self, dimensions: int) -> str | None:
        """Why vectors of ``dimensions`` cannot be kept here, or None when they can."""
