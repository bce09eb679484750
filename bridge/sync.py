"""Reconciliation: bring the index up to date with GitHub.

GitHub does not redeliver failed webhooks and sends none for reactions, so
the index drifts; a sync pages through each app's issues (``state=all``,
the app's labels, 100 per page: ``ceil(N/100)`` reads) and repairs status,
labels, title and 👍, adds issues born on GitHub and drops those that left.
An app with a board has its cards read first (``ceil(N/100)`` GraphQL reads),
so each issue's Status option feeds its status.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

from bridge.boards import board_options
from bridge.domain import Request, SortOrder, Status
from bridge.duplicates import merge_job
from bridge.indexing import KEEP, indexed_request
from bridge.notify.emit import record_changes
from bridge.ports import GitHubChanges, ListQuery
from bridge.runtime import Runtime
from bridge.settings import AppConfig

log = logging.getLogger(__name__)

BATCH = 100


@dataclass
class SyncReport:
    """What a sync of one app saw and did (or would do, in a dry run)."""

    app: str
    seen: int = 0
    added: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)

    def summary(self) -> str:
        """One line for people."""
        return (
            f"{self.app}: {self.seen} issue(s) on GitHub, {len(self.added)} added,"
            f" {len(self.updated)} updated, {len(self.removed)} removed"
        )


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


def sync_app(
    runtime: Runtime,
    app: AppConfig,
    *,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> SyncReport:
    """Reconcile one app; with ``dry_run`` only report what would change."""
    known = {request.number: request for request in _indexed(runtime, app)}
    described = runtime.store.described(app.id)
    report = SyncReport(app=app.id)
    batch: list[Request] = []
    seen: set[int] = set()
    merges: list[int] = []
    board = board_options(runtime, app)  # None: no board, or unreadable (keep the index's)
    for issue in runtime.tracker.iter_issues(app.repo, app.labels, state="all"):
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
            fresh.description and issue.number not in described
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
    report.removed = sorted(set(known) - seen)
    _apply(
        runtime,
        GitHubChanges(synced=batch, removed=[(app.id, number) for number in report.removed]),
        dry_run,
    )
    for number in merges:
        # A duplicate whose webhook was lost: merge its voters now, like the webhook would.
        runtime.queue.enqueue(merge_job(app.id, number))
    log.info("sync %s%s", report.summary(), " (dry run)" if dry_run else "")
    return report


def sync_all(
    runtime: Runtime, *, app_id: str | None = None, dry_run: bool = False
) -> list[SyncReport]:
    """Reconcile every app (or one)."""
    apps = [app for app in runtime.settings.apps if app_id is None or app.id == app_id]
    return [sync_app(runtime, app, dry_run=dry_run) for app in apps]


def _apply(runtime: Runtime, changes: GitHubChanges, dry_run: bool) -> None:
    if changes and not dry_run:
        record_changes(runtime, changes, delivery_id=None)
