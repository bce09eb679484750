"""GitHub Projects (v2) boards over GraphQL: the board half of the IssueTracker adapter.

``GitHubIssueTracker`` delegates its board methods here and hands in how to send
one GraphQL document (with the Authorization of the app's repository). Per
process, each board's node id and field ids (Status and its options, Votes) are
read once and kept; a write GitHub refuses drops them, so the next call reads
them again (a field deleted and made again gets a new id).

Requests per use: adding an issue is one mutation, plus one more to set its
Votes (plus the ids, once per process); setting Votes later is one read of the
issue's cards and a mutation only when the number changed; listing a board is
one read per 100 cards; a webhook's card is read back in one query.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any

from msgspec import Struct, field

from bridge.ports import TrackerError
from bridge.tracker_values import BoardItem, BoardItemState, BoardShape, ProjectRef, TrackedIssue
from github_app.auth import split_repo
from github_app.board_queries import (
    ADD_ITEM_MUTATION,
    BOARD_QUERY,
    CARD_QUERY,
    ISSUE_CARDS_QUERY,
    ISSUE_ID_QUERY,
    ITEMS_QUERY,
    OWNER_QUERY,
    SET_NUMBER_MUTATION,
)
from github_app.graphql import GraphQLAnswer, SendGraphQL
from github_app.mapping import timestamp

log = logging.getLogger(__name__)

MAX_PAGES = 1000  # a guard against a server that always says "next"


class BoardIds(Struct, frozen=True):
    """A board's node id and the ids of the fields the bridge uses."""

    project_id: str
    status_field: str | None = None
    status_type: str | None = None
    status_options: Mapping[str, str] = field(default_factory=dict)  # name -> option id
    votes_field: str | None = None
    votes_type: str | None = None

    @property
    def votes_number_field(self) -> str | None:
        """The Votes field's id when it is a number field."""
        return self.votes_field if self.votes_type == "NUMBER" else None


def _get(data: Any, *path: str) -> Any:
    for key in path:
        data = data.get(key) if isinstance(data, Mapping) else None
    return data


class Boards:
    """The board operations of one tracker, with the per-process id cache."""

    def __init__(self, graphql: SendGraphQL) -> None:
        self._graphql = graphql
        # Plain dict: a race costs one extra read of ids that come out the same.
        self._ids: dict[tuple[str, int], BoardIds] = {}

    # ------------------------------------------------------------------ ids

    def ids(self, project: ProjectRef, repo: str) -> BoardIds:
        """The board's ids, read once per process."""
        key = (project.owner.lower(), project.number)
        cached = self._ids.get(key)
        if cached is not None:
            return cached
        found, answer = self._read_board(project, repo)
        if found is None:
            raise TrackerError(
                f"GitHub could not read board {_name(project)}{answer.said()}"
                " (featurebridge doctor says how to fix it)"
            )
        self._ids[key] = found
        return found

    def forget(self, project: ProjectRef) -> None:
        """Drop the cached ids: the next call reads them again."""
        self._ids.pop((project.owner.lower(), project.number), None)

    def _read_board(self, project: ProjectRef, repo: str) -> tuple[BoardIds | None, GraphQLAnswer]:
        answer = self._graphql(
            BOARD_QUERY,
            {"owner": project.owner, "number": project.number},
            repo=repo,
            action=f"read board {_name(project)}",
        )
        board = _get(answer.data, "organization", "projectV2")
        if not isinstance(board, Mapping) or not isinstance(board.get("id"), str):
            return None, answer
        status, votes = board.get("status") or {}, board.get("votes") or {}
        options = {
            str(o["name"]): str(o["id"])
            for o in status.get("options") or ()
            if isinstance(o, Mapping) and "name" in o and "id" in o
        }
        ids = BoardIds(
            project_id=board["id"],
            status_field=status.get("id"),
            status_type=status.get("dataType"),
            status_options=options,
            votes_field=votes.get("id"),
            votes_type=votes.get("dataType"),
        )
        return ids, answer

    # ------------------------------------------------------------------ writes

    def add(
        self, project: ProjectRef, repo: str, number: int, *, node_id: str, votes: int | None
    ) -> str:
        """Put the issue on the board (idempotent on GitHub's side); return the card's id."""
        ids = self.ids(project, repo)
        content = node_id or self._issue_id(repo, number)
        action = f"add {repo}#{number} to board {_name(project)}"
        answer = self._graphql(
            ADD_ITEM_MUTATION,
            {"project": ids.project_id, "content": content},
            repo=repo,
            action=action,
            write=True,
        )
        item = _get(answer.data, "addProjectV2ItemById", "item", "id")
        if not isinstance(item, str):
            self.forget(project)
            raise TrackerError(f"GitHub could not {action}{answer.said()}")
        log.info("added %s#%d to board %s", repo, number, _name(project))
        if votes is not None and ids.votes_number_field is not None:
            self._write_votes(project, ids, repo, item, votes=votes, issue=f"{repo}#{number}")
        return item

    def set_votes(self, project: ProjectRef, repo: str, number: int, votes: int) -> bool:
        """Set the Votes field of the issue's card; False when there is no card or field."""
        ids = self.ids(project, repo)
        if ids.votes_number_field is None:
            return False
        owner, name = split_repo(repo)
        action = f"read the board cards of {repo}#{number}"
        answer = self._graphql(
            ISSUE_CARDS_QUERY,
            {"owner": owner, "name": name, "number": number},
            repo=repo,
            action=action,
        )
        issue = _get(answer.data, "repository", "issue")
        if not isinstance(issue, Mapping):
            raise TrackerError(f"GitHub could not {action}{answer.said()}")
        cards = _get(issue, "projectItems", "nodes") or ()
        card = next(
            (c for c in cards if _get(c, "project", "id") == ids.project_id and "id" in c), None
        )
        if card is None:
            return False
        if _get(card, "votes", "number") == votes:
            return True  # unchanged: no write
        self._write_votes(
            project, ids, repo, str(card["id"]), votes=votes, issue=f"{repo}#{number}"
        )
        return True

    def _write_votes(
        self, project: ProjectRef, ids: BoardIds, repo: str, item: str, *, votes: int, issue: str
    ) -> None:
        action = f"set the Votes of {issue} on board {_name(project)}"
        answer = self._graphql(
            SET_NUMBER_MUTATION,
            {"project": ids.project_id, "item": item, "field": ids.votes_field, "number": votes},
            repo=repo,
            action=action,
            write=True,
        )
        if not isinstance(
            _get(answer.data, "updateProjectV2ItemFieldValue", "projectV2Item"), dict
        ):
            self.forget(project)
            raise TrackerError(f"GitHub could not {action}{answer.said()}")

    def _issue_id(self, repo: str, number: int) -> str:
        owner, name = split_repo(repo)
        action = f"read the node id of {repo}#{number}"
        answer = self._graphql(
            ISSUE_ID_QUERY,
            {"owner": owner, "name": name, "number": number},
            repo=repo,
            action=action,
        )
        found = _get(answer.data, "repository", "issue", "id")
        if not isinstance(found, str):
            raise TrackerError(f"GitHub could not {action}{answer.said()}")
        return found

    # ------------------------------------------------------------------ reads

    def items(self, project: ProjectRef, repo: str) -> Iterator[BoardItem]:
        """Every issue card that is not archived, 100 per read."""
        after: str | None = None
        action = f"list the cards of board {_name(project)}"
        for _ in range(MAX_PAGES):
            answer = self._graphql(
                ITEMS_QUERY,
                {"owner": project.owner, "number": project.number, "after": after},
                repo=repo,
                action=action,
            )
            page = _get(answer.data, "organization", "projectV2", "items")
            if not isinstance(page, Mapping):
                raise TrackerError(f"GitHub could not {action}{answer.said()}")
            for node in page.get("nodes") or ():
                number = _get(node, "content", "number")
                content_repo = _get(node, "content", "repository", "nameWithOwner")
                if _get(node, "isArchived") or not isinstance(number, int) or not content_repo:
                    continue  # archived, a draft issue or a pull request
                yield BoardItem(str(content_repo), number, _get(node, "status", "name"))
            info = page.get("pageInfo") or {}
            after = info.get("endCursor")
            if not info.get("hasNextPage") or not after:
                return
        raise TrackerError(f"gave up to {action} after {MAX_PAGES} pages")

    def read_item(
        self, repo: str, *, item_id: str, project_id: str, content_id: str
    ) -> BoardItemState:
        """A webhook's card, its board and its issue, in one query."""
        answer = self._graphql(
            CARD_QUERY,
            {"item": item_id, "project": project_id, "content": content_id},
            repo=repo,
            action=f"read board card {item_id}",
        )
        board = answer.data.get("project")
        login, number = _get(board, "owner", "login"), _get(board, "number")
        project = ProjectRef(str(login), number) if login and isinstance(number, int) else None
        item = answer.data.get("item")
        on_board = isinstance(item, Mapping) and "isArchived" in item and not item["isArchived"]
        if project is None and not answer.data.get("content") and answer.errors:
            log.info("board card %s cannot be read%s", item_id, answer.said())
        return BoardItemState(
            project=project,
            issue=_issue_of(answer.data.get("content")),
            on_board=on_board,
            status=_get(item, "status", "name") if on_board else None,
        )

    def shape(self, project: ProjectRef, repo: str) -> BoardShape:
        """Who owns the board and its Status and Votes fields (read fresh)."""
        ids, answer = self._read_board(project, repo)
        if ids is not None:
            self._ids[(project.owner.lower(), project.number)] = ids
            return BoardShape(
                owner="organization",
                found=True,
                status_type=ids.status_type,
                status_options=tuple(ids.status_options),
                votes_type=ids.votes_type,
            )
        if any(error.get("type") not in (None, "NOT_FOUND") for error in answer.errors):
            raise TrackerError(
                f"GitHub refused to read board {_name(project)}{answer.said()} (the App needs"
                " the Organization projects permission, read and write)"
            )
        if isinstance(answer.data.get("organization"), Mapping):
            return BoardShape(owner="organization", found=False)
        user = self._graphql(
            OWNER_QUERY,
            {"owner": project.owner, "number": project.number},
            repo=repo,
            action=f"look up the owner of board {_name(project)}",
        )
        if not isinstance(user.data.get("user"), Mapping):
            return BoardShape(owner="missing", found=False)
        return BoardShape(owner="user", found=_get(user.data, "user", "projectV2") is not None)


def _name(project: ProjectRef) -> str:
    return f"{project.owner}/{project.number}"


def _issue_of(content: Any) -> TrackedIssue | None:
    """An ``Issue`` of GraphQL as the port's TrackedIssue; None for anything else."""
    if not isinstance(content, Mapping) or not isinstance(content.get("number"), int):
        return None
    try:
        reason = content.get("stateReason")
        return TrackedIssue(
            repo=str(content["repository"]["nameWithOwner"]),
            number=content["number"],
            url=str(content["url"]),
            title=str(content["title"]),
            state=str(content["state"]).lower(),
            state_reason=str(reason).lower() if reason else None,
            labels=tuple(str(label["name"]) for label in content["labels"]["nodes"] or ()),
            created_at=timestamp(content["createdAt"]),
            updated_at=timestamp(content["updatedAt"]),
            closed_at=timestamp(content["closedAt"]) if content.get("closedAt") else None,
            thumbs_up=_get(content, "reactions", "totalCount"),
            node_id=str(content.get("id") or ""),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise TrackerError(f"GitHub's answer holds an unreadable issue: {error}") from None
