"""Reconciliation: bring the index up to date with GitHub.

GitHub does not redeliver failed webhooks and sends none for reactions, so
the index drifts. A **full** pass pages through each app's issues
(``state=all``, the app's labels, 100 per page: ``ceil(N/100)`` reads) and
repairs status, labels, title and 👍, adds issues born on GitHub and drops
those that left; an app with a board has its cards read first (``ceil(N/100)``
GraphQL reads), so each issue's Status option feeds its status.

An **incremental** pass asks only for the issues GitHub updated since the last
complete pass began (``since``, less a margin for clocks): usually one read.
Every change GitHub stamps on an issue (state, labels, title, body, comments)
moves its ``updated_at``, so a missed webhook of those heals at the next pass;
a 👍 does not, nor does a move on the board or an issue leaving the app (it no
longer carries the labels asked for), so a full pass runs whenever the last one
began ``full_sync_interval_minutes`` ago or more. Scheduled syncs choose for
themselves (:func:`due_full`); ``featurebridge sync`` and ``POST /v1/sync`` run
full passes. Each app's marks (:class:`SyncMarks`) are kept in the index and
move only when a pass completes, so a failed pass is covered by the next.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta

from msgspec import Struct, field
from msgspec.structs import replace

from bridge.boards import board_options
from bridge.domain import Request, SortOrder, Status
from bridge.duplicates import merge_job
from bridge.indexing import KEEP, indexed_request
from bridge.notify.emit import record_changes
from bridge.ports import GitHubChanges, ListQuery, SyncMarks
from bridge.runtime import Runtime
from bridge.settings import AppConfig, ServerSettings
from bridge.tracker_values import TrackedIssue

log = logging.getLogger(__name__)

BATCH = 100
# An incremental pass asks for issues updated this long before the previous pass began:
# GitHub's clock and the bridge's may differ, and an update may land while a page is read.
SINCE_MARGIN = timedelta(minutes=5)


class SyncReport(Struct):
    """What a sync of one app saw and did (or would do, in a dry run)."""

    app: str
    full: bool = True
    seen: int = 0
    added: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)

    def summary(self) -> str:
        """One line for people."""
        kind = "full" if self.full else "incremental"
        return (
            f"{self.app} ({kind}): {self.seen} issue(s) on GitHub, {len(self.added)} added,"
            f" {len(self.updated)} updated, {len(self.removed)} removed"
        )


def due_full(marks: SyncMarks, now: datetime, server: ServerSettings) -> bool:
    """Whether a scheduled sync should be a full pass.

    Full when the app never had one, or its last one began at least
    ``full_sync_interval_minutes`` ago (less half a sync interval, so a schedule
    that fires a little early does not push the full pass back a whole interval).
    """
    if marks.full_at is None or marks.since is None:
        return True
    if server.full_sync_interval_minutes <= server.sync_interval_minutes:
        return True
    slack = timedelta(minutes=server.sync_interval_minutes / 2)
    return now - marks.full_at + slack >= timedelta(minutes=server.full_sync_interval_minutes)


def _indexed(runtime: Runtime, app: AppConfig) -> Iterator[Request]:
    cursor = None
    while True:
        page = runtime.store.list_requests(
            ListQuery(app=app.id, sort=SortOrder.NEW, limit=100, cursor=cursor)
        )
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


class _Known:
    """The index's view of the issues a pass meets: all read up front for a full pass,
    one by one for an incremental pass (which meets few)."""

    def __init__(self, runtime: Runtime, app: AppConfig, *, full: bool) -> None:
        self._store, self._app = runtime.store, app.id
        self.requests: dict[int, Request] | None = None
        self._described: set[int] | None = None
        if full:
            self.requests = {request.number: request for request in _indexed(runtime, app)}
            self._described = self._store.described(app.id)

    def get(self, number: int) -> Request | None:
        if self.requests is not None:
            return self.requests.get(number)
        return self._store.get_request(self._app, number)

    def described(self, number: int) -> bool:
        if self._described is not None:
            return number in self._described
        return bool(self._store.description(self._app, number))


def sync_app(
    runtime: Runtime,
    app: AppConfig,
    *,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
    full: bool | None = True,
) -> SyncReport:
    """Reconcile one app; with ``dry_run`` only report what would change.

    ``full``: True (the default: commands and ``POST /v1/sync``) for a full pass,
    False for an incremental one (full all the same when the app has had none
    yet), None to let :func:`due_full` choose (the schedule).
    """
    started = runtime.clock()
    marks = runtime.store.sync_marks(app.id)
    if full is None:
        full = due_full(marks, started, runtime.settings.server)
    since = None if full or marks.since is None else marks.since - SINCE_MARGIN
    full = since is None
    known = _Known(runtime, app, full=full)
    report = SyncReport(app=app.id, full=full)
    issues = runtime.tracker.iter_issues(app.repo, app.labels, state="all", since=since)
    # An incremental pass keeps the index's Status options: board moves do not update
    # issues, so reading the board would find nothing the full pass does not.
    board = board_options(runtime, app) if full else None
    rest, seen, merges = _reconcile(
        runtime,
        app,
        issues,
        known=known,
        board=board,
        report=report,
        dry_run=dry_run,
        progress=progress,
    )
    if known.requests is not None:
        report.removed = sorted(set(known.requests) - seen)
    removed = [(app.id, number) for number in report.removed]
    _apply(runtime, GitHubChanges(synced=rest, removed=removed), dry_run)
    for number in merges:
        # A duplicate whose webhook was lost: merge its voters now, like the webhook would.
        runtime.queue.enqueue(merge_job(app.id, number))
    if not dry_run:
        runtime.store.record_sync(
            app.id, SyncMarks(since=started, full_at=started if full else marks.full_at)
        )
    log.info("sync %s%s", report.summary(), " (dry run)" if dry_run else "")
    return report


def _reconcile(
    runtime: Runtime,
    app: AppConfig,
    issues: Iterable[TrackedIssue],
    *,
    known: _Known,
    board: dict[int, str | None] | None,
    report: SyncReport,
    dry_run: bool,
    progress: Callable[[int], None] | None,
) -> tuple[list[Request], set[int], list[int]]:
    """Compare each issue with the index and write what differs in full batches.

    Returns the last, partial batch (written with the removals), the numbers seen,
    and those of issues newly closed as duplicates (their voters are merged after).
    """
    batch: list[Request] = []
    seen: set[int] = set()
    merges: list[int] = []
    for issue in issues:
        report.seen += 1
        seen.add(issue.number)
        existing = known.get(issue.number)
        option = KEEP if board is None else board.get(issue.number)
        fresh = indexed_request(app, issue, existing, now=runtime.clock(), board_option=option)
        newly_duplicate = existing is None or existing.status is not Status.DUPLICATE
        if fresh.status is Status.DUPLICATE and newly_duplicate and not dry_run:
            merges.append(issue.number)
        if existing is None:
            report.added.append(issue.number)
        elif replace(fresh, description=None) != existing or (
            fresh.description and not known.described(issue.number)
        ):
            # Reads leave descriptions out (None): a description is written with other
            # changes, or alone when the index has none yet (issues from before
            # descriptions were indexed, or whose edit webhooks were lost).
            report.updated.append(issue.number)
        else:
            continue
        batch.append(fresh)
        if len(batch) >= BATCH:
            _apply(runtime, GitHubChanges(synced=batch), dry_run)
            batch = []
        if progress is not None:
            progress(report.seen)
    return batch, seen, merges


def sync_all(
    runtime: Runtime,
    *,
    app_id: str | None = None,
    dry_run: bool = False,
    full: bool | None = True,
) -> list[SyncReport]:
    """Reconcile every app (or one); ``full`` as for :func:`sync_app`."""
    apps = [app for app in runtime.settings.apps if app_id is None or app.id == app_id]
    return [sync_app(runtime, app, dry_run=dry_run, full=full) for app in apps]


def _apply(runtime: Runtime, changes: GitHubChanges, dry_run: bool) -> None:
    if changes and not dry_run:
        record_changes(runtime, changes, delivery_id=None)
