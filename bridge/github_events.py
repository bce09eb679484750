"""What each GitHub webhook event changes in the index.

Handlers read the index and return :class:`GitHubChanges`; the webhook view
applies them together with the delivery id, in one transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from bridge.boards import BOARD_ACTIONS, board_item_jobs, new_issue_jobs
from bridge.duplicates import merge_job
from bridge.embeddings.queueing import embed_job
from bridge.indexing import apps_of_issue, indexed_request
from bridge.ports import GitHubChanges, InstallationChange, Job
from bridge.runtime import Runtime
from github_app.mapping import PayloadError, issue_from_payload
from github_app.webhooks import Router, WebhookEvent

log = logging.getLogger(__name__)

router: Router[Runtime, GitHubChanges] = Router()

NOTHING = GitHubChanges()


def _issue_changes(runtime: Runtime, repo: str, issue_json: Mapping[str, Any]) -> GitHubChanges:
    """Index the issue in every app of the repo it belongs to; drop it from the others."""
    issue = issue_from_payload(repo, issue_json)
    apps = runtime.settings.apps
    members = apps_of_issue(apps, repo, issue.labels)
    synced = [
        indexed_request(
            app, issue, runtime.store.get_request(app.id, issue.number), now=runtime.clock()
        )
        for app in members
    ]
    removed = []
    for app in apps:
        if app.repo.lower() != repo.lower() or app in members:
            continue
        existing = runtime.store.get_request(app.id, issue.number)
        # A change strictly older than the index's does not take the issue out.
        if existing is not None and existing.updated_at <= issue.updated_at:
            removed.append((app.id, issue.number))
    return GitHubChanges(synced=synced, removed=removed)


def _repo_of(event: WebhookEvent) -> str:
    if event.repo is None:
        raise PayloadError("payload has no repository.full_name")
    return event.repo


@router.on("issues", "opened", "edited", "labeled", "unlabeled", "closed", "reopened")
def issue_changed(runtime: Runtime, event: WebhookEvent) -> GitHubChanges:
    """A change of what the index keeps: bring the entry up to date (or in, or out)."""
    return _issue_changes(runtime, _repo_of(event), _mapping(event.payload, "issue"))


@router.on(
    "issues",
    "typed",
    "untyped",
    "milestoned",
    "demilestoned",
    "assigned",
    "unassigned",
    "locked",
    "unlocked",
    "pinned",
    "unpinned",
)
def issue_touched(runtime: Runtime, event: WebhookEvent) -> GitHubChanges:
    """Changes the index does not keep; some of these payloads carry a partial issue,
    so use it when it is whole (fresh 👍 and activity) and otherwise leave things be."""
    try:
        return issue_changed(runtime, event)
    except PayloadError:
        return NOTHING


@router.on("issues", "deleted")
def issue_deleted(runtime: Runtime, event: WebhookEvent) -> GitHubChanges:
    """A deleted issue leaves every app of its repo."""
    repo = _repo_of(event)
    number = int(_mapping(event.payload, "issue")["number"])
    return GitHubChanges(
        removed=[
            (app.id, number) for app in runtime.settings.apps if app.repo.lower() == repo.lower()
        ]
    )


@router.on("issues", "transferred")
def issue_transferred(runtime: Runtime, event: WebhookEvent) -> GitHubChanges:
    """The issue leaves its old repo's apps and may join an app of the new repo."""
    left = issue_deleted(runtime, event)
    changes = _mapping(event.payload, "changes")
    new_repo = _mapping(changes, "new_repository").get("full_name")
    new_issue = changes.get("new_issue")
    if not isinstance(new_repo, str) or not isinstance(new_issue, Mapping):
        return left
    joined = _issue_changes(runtime, new_repo, new_issue)
    return GitHubChanges(synced=joined.synced, removed=[*left.removed, *joined.removed])


@router.on("issue_comment", "created", "edited", "deleted")
def comment_changed(runtime: Runtime, event: WebhookEvent) -> GitHubChanges:
    """A comment refreshes the issue's activity and its 👍 count from the rollup."""
    issue = _mapping(event.payload, "issue")
    if "pull_request" in issue:
        return NOTHING
    return _issue_changes(runtime, _repo_of(event), issue)


@router.on("label", "created", "edited", "deleted")
def label_changed(runtime: Runtime, event: WebhookEvent) -> GitHubChanges:
    """Renaming or deleting a label an app relies on breaks it: say so loudly."""
    repo = _repo_of(event)
    label = _mapping(event.payload, "label").get("name")
    old = event.payload.get("changes", {}).get("name", {}).get("from")
    for app in runtime.settings.apps:
        if app.repo.lower() != repo.lower():
            continue
        used = set(app.labels) | set(app.status_labels)
        for name in {label, old} & used:
            if event.action == "deleted" or name == old:
                log.warning(
                    "label %r of app %s was %s in %s; fix featurebridge.toml or restore it"
                    " (featurebridge doctor checks this)",
                    name,
                    app.id,
                    "renamed" if event.action == "edited" else event.action,
                    repo,
                )
    return NOTHING


@router.on("installation", "created", "deleted", "suspend", "unsuspend", "new_permissions_accepted")
def installation_changed(runtime: Runtime, event: WebhookEvent) -> GitHubChanges:
    """Keep the list of repositories the App is installed on."""
    installation = _mapping(event.payload, "installation")
    account = _mapping(installation, "account").get("login", "")
    repos = tuple(
        str(repo["full_name"])
        for repo in event.payload.get("repositories") or ()
        if "full_name" in repo
    )
    gone = event.action in ("deleted", "suspend")
    return GitHubChanges(
        installation=InstallationChange(
            installation_id=int(installation["id"]),
            account=str(account),
            added=() if gone else repos,
            uninstalled=gone,
        )
    )


@router.on("installation_repositories", "added", "removed")
def installation_repositories_changed(runtime: Runtime, event: WebhookEvent) -> GitHubChanges:
    """Repositories added to or removed from the installation."""
    installation = _mapping(event.payload, "installation")
    account = _mapping(installation, "account").get("login", "")

    def names(key: str) -> tuple[str, ...]:
        return tuple(str(repo["full_name"]) for repo in event.payload.get(key) or ())

    return GitHubChanges(
        installation=InstallationChange(
            installation_id=int(installation["id"]),
            account=str(account),
            added=names("repositories_added"),
            removed=names("repositories_removed"),
        )
    )


@router.on("projects_v2_item", *BOARD_ACTIONS)
def board_item_changed(runtime: Runtime, event: WebhookEvent) -> GitHubChanges:
    """A card on a board changed: the payload names it by node ids only, so a job
    reads it back (``follow_ups``); nothing to apply now."""
    try:
        board_item_jobs(runtime.settings, event.action, event.payload)
    except (KeyError, ValueError) as error:
        raise PayloadError(str(error)) from error
    return NOTHING


def follow_ups(runtime: Runtime, event: WebhookEvent) -> list[Job]:
    """Slow work an event calls for, queued once its changes are applied."""
    return [*_follow_ups(runtime, event), *_embed_jobs(runtime, event)]


def _embed_jobs(runtime: Runtime, event: WebhookEvent) -> list[Job]:
    """An issue opened on GitHub, or whose title or body changed, is embedded again."""
    if runtime.embedder is None or event.name != "issues" or event.repo is None:
        return []
    changes = event.payload.get("changes")
    edited = isinstance(changes, Mapping) and bool({"title", "body"} & set(changes))
    if event.action != "opened" and not (event.action == "edited" and edited):
        return []
    issue = _mapping(event.payload, "issue")
    labels = _label_names(issue)
    return [
        embed_job(app.id, int(issue["number"]))
        for app in apps_of_issue(runtime.settings.apps, event.repo, labels)
    ]


def _follow_ups(runtime: Runtime, event: WebhookEvent) -> list[Job]:
    if event.name == "projects_v2_item":
        return board_item_jobs(runtime.settings, event.action, event.payload)
    if (event.name, event.action) == ("issues", "opened") and event.repo is not None:
        return new_issue_jobs(runtime.settings, event.repo, _mapping(event.payload, "issue"))
    if (event.name, event.action) != ("issues", "closed") or event.repo is None:
        return []
    issue = event.payload.get("issue")
    if not isinstance(issue, Mapping) or issue.get("state_reason") != "duplicate":
        return []
    labels = _label_names(issue)
    number = int(issue["number"])
    return [
        merge_job(app.id, number)
        for app in apps_of_issue(runtime.settings.apps, event.repo, labels)
    ]


def _label_names(issue: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(
        str(label.get("name")) for label in issue.get("labels") or () if isinstance(label, Mapping)
    )


def _mapping(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    if not isinstance(value, Mapping):
        raise PayloadError(f"payload has no object {key!r}")
    return value
