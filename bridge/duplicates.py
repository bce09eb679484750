"""Closing as duplicate: the duplicate's bridge voters move to the original.

Voters are unioned (one who voted for both keeps one vote), never moved across
apps, and 👍 reactions stay on the issue they were given on. Both tallies
follow through the store's tally versions.
"""

from __future__ import annotations

import logging

from msgspec.structs import replace

from bridge.domain import Status
from bridge.notify.email.optin import duplicate_merged
from bridge.notify.emit import votes_moved
from bridge.ports import GitHubChanges, Job
from bridge.runtime import Runtime

log = logging.getLogger(__name__)

MERGE_DUPLICATE = "merge_duplicate"


def merge_job(app_id: str, number: int) -> Job:
    """The job that merges a duplicate's votes into its original."""
    return Job(MERGE_DUPLICATE, {"app": app_id, "number": number})


def merge_duplicate(runtime: Runtime, app_id: str, number: int) -> int | None:
    """Move the duplicate's voters to its original; returns the original's number."""
    app = runtime.settings.app(app_id)
    duplicate = runtime.store.get_request(app_id, number)
    if app is None or duplicate is None or duplicate.status is not Status.DUPLICATE:
        return None
    found = runtime.tracker.canonical_issue(app.repo, number)
    if found is None:
        log.info("%s#%d is a duplicate of an issue GitHub does not name", app.repo, number)
        return None
    repo, original = found
    if repo.lower() != app.repo.lower() or runtime.store.get_request(app.id, original) is None:
        log.info(
            "%s#%d duplicates %s#%d, outside app %s: its votes stay",
            app.repo,
            number,
            repo,
            original,
            app.id,
        )
        return None
    now = runtime.clock()
    moved = runtime.store.move_votes(app.id, number, original, now=now)
    votes_moved(runtime, app.id, original, gained=moved)
    duplicate_merged(runtime, app.id, number, original, submission_id=duplicate.submission_id)
    marked = runtime.store.get_request(app.id, number)
    if marked is not None:
        runtime.store.record_github_changes(
            GitHubChanges(synced=[replace(marked, duplicate_of=original)]),
            delivery_id=None,
            now=now,
        )
    log.info("%s#%d: %d voter(s) moved to #%d", app.repo, number, moved, original)
    return original
