"""GitHub Projects (v2) boards: issues go on the app's board, its Status comes back.

- A new issue of an app with a ``project`` is added to the board by a job
  (:func:`add_to_board_job`), never in the submission's request path; the job
  also writes the card's ``Votes`` and starts the tally's minute, so the next
  vote's write is coalesced like any other (``bridge.jobs.write_tally`` keeps
  the field current from then on).
- A ``projects_v2_item`` webhook carries only node ids, and the index knows
  issues by number, so the handler answers at once and queues a job
  (:func:`board_item_jobs`, run by :func:`apply_board_item`): one GraphQL read
  gives the card's board, Status and issue (the payload's
  ``changes.field_value`` is used only to skip edits of other fields, since it
  names no issue). Draft issues and pull requests are ignored.
- ``sync`` reads each board, ``ceil(N/100)`` reads (:func:`board_options`).
- ``doctor`` judges a board's shape with :func:`board_problems`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from bridge.domain import Request, Status
from bridge.indexing import apps_of_issue, indexed_request
from bridge.notify.emit import record_changes
from bridge.ports import GitHubChanges, Job, TrackerError
from bridge.runtime import Runtime
from bridge.settings import AppConfig, ProjectConfig, Settings
from bridge.tracker_values import BoardShape, ProjectRef

log = logging.getLogger(__name__)

ADD_TO_BOARD = "add_to_board"
BOARD_ITEM = "board_item"
# projects_v2_item actions that can move a card's Status or take it off the board.
BOARD_ACTIONS = ("created", "edited", "archived", "restored", "deleted", "converted")


def board_of(app: AppConfig) -> ProjectRef | None:
    """The app's board, if it has one."""
    return ProjectRef(app.project.owner, app.project.number) if app.project else None


def _same_board(app: AppConfig, project: ProjectRef) -> bool:
    return (
        app.project is not None
        and app.project.owner.lower() == project.owner.lower()
        and app.project.number == project.number
    )


def board_votes(runtime: Runtime, app: AppConfig, request: Request) -> int:
    """The card's Votes: the issue's 👍 once, plus the bridge votes of every app that
    shares the board and the repository (the issue may belong to several)."""
    project = board_of(app)
    sharing = [
        other
        for other in runtime.settings.apps
        if other.id != app.id
        and other.repo.lower() == app.repo.lower()
        and project is not None
        and _same_board(other, project)
    ]
    others = (runtime.store.get_request(other.id, request.number) for other in sharing)
    return request.total_votes + sum(found.bridge_votes for found in others if found is not None)


# --------------------------------------------------------------------------- adding issues


def add_to_board_job(app_id: str, number: int, node_id: str = "") -> Job:
    """The job that puts a new issue on its app's board (``node_id``: the issue's, if known)."""
    return Job(ADD_TO_BOARD, {"app": app_id, "number": number, "node_id": node_id})


def add_to_board(runtime: Runtime, payload: Mapping[str, Any]) -> None:
    """Put the issue on the board with its Votes; TrackerError propagates (the queue retries)."""
    app = runtime.settings.app(str(payload["app"]))
    project = board_of(app) if app else None
    if app is None or project is None:
        return
    number = int(payload["number"])
    wait = runtime.pacer.reserve(runtime.tracker.pacing_key(app.repo))
    if wait > 0:
        # GitHub's content budget is spent: the card waits for its slot.
        job = add_to_board_job(app.id, number, str(payload.get("node_id") or ""))
        runtime.queue.enqueue(job, delay_seconds=wait)
        return
    request = runtime.store.get_request(app.id, number)
    runtime.tracker.add_to_board(
        project,
        app.repo,
        number,
        node_id=str(payload.get("node_id") or ""),
        votes=board_votes(runtime, app, request) if request else None,
    )
    if request is not None:
        # The Votes just written count as this minute's tally write: the next
        # vote's write waits for the interval, like every other tally write.
        runtime.store.record_tally(app.id, number, version=0, now=runtime.clock())


def new_issue_jobs(settings: Settings, repo: str, issue: Mapping[str, Any]) -> list[Job]:
    """``issues.opened``: an issue born on GitHub joins the boards of its apps."""
    labels = tuple(
        str(label.get("name")) for label in issue.get("labels") or () if isinstance(label, Mapping)
    )
    return [
        add_to_board_job(app.id, int(issue["number"]), str(issue.get("node_id") or ""))
        for app in apps_of_issue(settings.apps, repo, labels)
        if app.project is not None
    ]


# --------------------------------------------------------------------------- webhooks


def board_item_jobs(
    settings: Settings, action: str | None, payload: Mapping[str, Any]
) -> list[Job]:
    """The job a ``projects_v2_item`` delivery calls for, if any (no I/O: the view is fast).

    Ignored: cards that are not issues (draft issues, pull requests), boards of
    organizations no app's board belongs to, and edits of fields other than Status.
    """
    item = payload.get("projects_v2_item")
    if not isinstance(item, Mapping):
        raise ValueError("payload has no object 'projects_v2_item'")
    if item.get("content_type") != "Issue" or action not in BOARD_ACTIONS:
        return []
    organization = payload.get("organization")
    org = organization.get("login") if isinstance(organization, Mapping) else None
    apps = [app for app in settings.apps if _owned_by(app, org)]
    if not apps:
        return []
    changes = payload.get("changes")
    change = changes.get("field_value") if isinstance(changes, Mapping) else None
    if action == "edited":
        if not isinstance(change, Mapping):
            return []  # a draft's body: nothing the index keeps
        if change.get("field_name") not in (None, "Status"):
            return []  # another field (the bridge's own Votes among them)
        number = change.get("project_number")
        if isinstance(number, int) and number not in {a.project.number for a in apps if a.project}:
            return []  # another board of the same organization
    return [
        Job(
            BOARD_ITEM,
            {
                "org": org,
                "action": action,
                "item": str(item["node_id"]),
                "project": str(item["project_node_id"]),
                "content": str(item["content_node_id"]),
            },
        )
    ]


def _owned_by(app: AppConfig, org: object) -> bool:
    return (
        app.project is not None
        and isinstance(org, str)
        and app.project.owner.lower() == org.lower()
    )


def apply_board_item(runtime: Runtime, payload: Mapping[str, Any]) -> None:
    """Read a card back (one GraphQL query) and index its issue with the card's Status."""
    apps = [app for app in runtime.settings.apps if _owned_by(app, payload.get("org"))]
    if not apps:
        return
    state = runtime.tracker.read_board_item(
        apps[0].repo,
        item_id=str(payload["item"]),
        project_id=str(payload["project"]),
        content_id=str(payload["content"]),
    )
    if state.project is None or state.issue is None:
        log.info("board card %s: not an issue on a board the App can read", payload["item"])
        return
    issue, project = state.issue, state.project
    option = state.status if state.on_board and payload.get("action") != "deleted" else None
    members = [
        app
        for app in apps_of_issue(runtime.settings.apps, issue.repo, issue.labels)
        if _same_board(app, project)
    ]
    synced = [
        indexed_request(
            app,
            issue,
            runtime.store.get_request(app.id, issue.number),
            now=runtime.clock(),
            board_option=option,
        )
        for app in members
    ]
    if synced:
        record_changes(runtime, GitHubChanges(synced=synced), delivery_id=None)


# --------------------------------------------------------------------------- sync


def board_options(runtime: Runtime, app: AppConfig) -> dict[int, str | None] | None:
    """Status option of each of the app's issues on its board (absent: not on it).

    ``ceil(N/100)`` GraphQL reads for N cards. None when the app has no board, or
    when it cannot be read (logged): the index's options are kept then.
    """
    project = board_of(app)
    if project is None:
        return None
    try:
        return {
            item.number: item.status
            for item in runtime.tracker.iter_board_items(project, app.repo)
            if item.repo.lower() == app.repo.lower()
        }
    except TrackerError as error:
        log.warning("board of %s not read, Status options kept from the index: %s", app.id, error)
        return None


# --------------------------------------------------------------------------- doctor


def board_problems(project: ProjectConfig, shape: BoardShape) -> list[str]:
    """What is wrong with a board, each with its fix (empty: nothing)."""
    name = f"board {project.owner}/{project.number}"
    if shape.owner == "user":
        return [
            f"{name}: {project.owner} is a user account, and GitHub App tokens cannot reach"
            " user-owned boards: transfer the project to an organization (project settings"
            " → Transfer) or make the board there, then set [apps.project] owner to it"
        ]
    if shape.owner == "missing":
        return [f"{name}: GitHub knows no organization {project.owner!r}: fix [apps.project] owner"]
    if not shape.found:
        return [
            f"{name}: organization {project.owner} has no project {project.number} the App"
            f" can see: check [apps.project] number against the project's URL"
            f" (github.com/orgs/{project.owner}/projects/N) and give the App the Organization"
            " projects (read and write) permission, accepted on the installation"
        ]
    problems = []
    if shape.status_type is None:
        problems.append(
            f"{name} has no Status field: in the project, + New field → Single select →"
            " name it Status"
        )
    elif shape.status_type != "SINGLE_SELECT":
        problems.append(
            f"{name}: its Status field is a {shape.status_type.lower()} field, not single"
            " select: rename it and add + New field → Single select → name it Status"
        )
    else:
        mapped = project.board_options()
        unmapped = [option for option in shape.status_options if option not in mapped]
        if unmapped:
            statuses = ", ".join(status.value for status in Status)
            problems.append(
                f"{name}: Status option(s) {', '.join(map(repr, unmapped))} map to no status:"
                f' add them under [apps.project.status_options], e.g. "{unmapped[0]}" ='
                f' "planned" (statuses: {statuses})'
            )
        stale = [option for option in project.status_options if option not in shape.status_options]
        if stale:
            problems.append(
                f"{name}: [apps.project.status_options] names option(s)"
                f" {', '.join(map(repr, stale))} that the Status field does not have"
                " (renamed or deleted?): fix or remove them"
            )
    if shape.votes_type is None:
        problems.append(
            f"{name} has no Votes field: in the project, + New field → Number → name it Votes"
        )
    elif shape.votes_type != "NUMBER":
        problems.append(
            f"{name}: its Votes field is a {shape.votes_type.lower()} field, not a number:"
            " rename it, then + New field → Number → name it Votes"
        )
    return problems
