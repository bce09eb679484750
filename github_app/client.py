"""The IssueTracker adapter over GitHub's REST API, through githubkit.

One githubkit client per tracker, opened on first use and shared by every
thread (see ``github_app.kit``); githubkit, httpx and PyJWT are imported then,
not when this module is imported, so Lambda entries stay cheap to start.

Every request carries the ``Authorization`` of the credentials for its repo
(an installation token of a GitHub App, or a plain token) and a fixed REST API
version that github.com and GitHub Enterprise Server both serve. Failures
become the port's exceptions (``github_app.errors``).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bridge.ports import OutcomeUnknownError, TrackerError, TrackerHealth, TrackerNotConfiguredError
from bridge.tracker_values import (
    BoardItem,
    BoardItemState,
    BoardShape,
    IssueDraft,
    ProjectRef,
    TrackedIssue,
)
from github_app.auth import AppCredentials, Clock, Credentials, TokenCredentials, split_repo
from github_app.errors import error_for_response, error_for_transport
from github_app.graphql import GraphQLAnswer, read_answer
from github_app.mapping import (
    as_int,
    aware,
    has_write_access,
    json_or_fail,
    json_or_none,
    tracked_issue,
    unique_labels,
    written_by,
)
from github_app.projects import Boards

if TYPE_CHECKING:
    import httpx

    from github_app.kit import SharedGitHub

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"  # served by github.com and GitHub Enterprise Server 3.9+
PER_PAGE = 100
DUPLICATE_COMMENT = re.compile(r"(?im)^\s*duplicate of #(\d+)\b")
CANONICAL_QUERY = """
query($owner: String!, $name: String!, $number: Int!) {
  repository(owner: $owner, name: $name) {
    issue(number: $number) {
      timelineItems(itemTypes: [MARKED_AS_DUPLICATE_EVENT], first: 10) {
        nodes {
          ... on MarkedAsDuplicateEvent {
            canonical {
              ... on Issue { number repository { nameWithOwner } }
            }
          }
        }
      }
    }
  }
}
"""
MAX_PAGES = 1000  # a guard against a server that always says "next"


class GitHubIssueTracker:
    """GitHub Issues for the domain: create, find again by marker, comment, list."""

    def __init__(
        self,
        *,
        api_url: str = DEFAULT_API_URL,
        app_id: str | int | None = None,
        private_key_pem: str | None = None,
        token: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 10.0,
        clock: Clock = time.time,
        user_agent: str = "featurebridge",
    ) -> None:
        self.api_url = (api_url or DEFAULT_API_URL).strip().rstrip("/")
        self._transport = transport
        self._timeout = timeout
        self._clock = clock
        self._user_agent = user_agent
        self._gh: SharedGitHub | None = None
        self._gh_lock = threading.Lock()
        self._actor: str | None = None
        self._credentials: Credentials | None = None
        self._problem: str | None = None
        self._boards = Boards(self._graphql)
        if not self.api_url.startswith(("https://", "http://")):
            self._problem = f"GITHUB_API_URL must be an http(s) URL, not {self.api_url!r}"
        elif app_id is not None or private_key_pem:
            if app_id is None or not str(app_id).strip():
                self._problem = "GITHUB_APP_PRIVATE_KEY is set but GITHUB_APP_ID is not"
            elif not private_key_pem:
                self._problem = "GITHUB_APP_ID is set but GITHUB_APP_PRIVATE_KEY is not"
            else:
                self._credentials = AppCredentials(
                    app_id, private_key_pem, api=self._app_api, clock=clock
                )
        elif token:
            self._credentials = TokenCredentials(token)
        else:
            self._problem = (
                "no GitHub credentials: set GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY "
                "(or GITHUB_TOKEN)"
            )

    def __repr__(self) -> str:
        return f"GitHubIssueTracker(api_url={self.api_url!r}, credentials={self._credentials!r})"

    def __enter__(self) -> GitHubIssueTracker:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------ the port

    def health(self) -> TrackerHealth:
        """Configured or not, and why; never calls GitHub."""
        try:
            credentials = self._ready()
        except TrackerNotConfiguredError as exc:
            return TrackerHealth(configured=False, detail=str(exc))
        return TrackerHealth(configured=True, detail=f"{credentials.description} at {self.api_url}")

    def pacing_key(self, repo: str) -> str:
        """The content-creation budget: the installation owner, or ``token``."""
        if self._credentials is None:
            return split_repo(repo)[0].lower()
        return self._credentials.pacing_key(repo)

    def actor_login(self) -> str | None:
        """``slug[bot]`` for an App, the token's user otherwise; asked once, then kept.

        None while GitHub cannot tell (not configured, or the call failed):
        the webhook view then treats every sender as someone else.
        """
        if self._actor is not None or self._credentials is None:
            return self._actor
        app = isinstance(self._credentials, AppCredentials)
        action = "read the App's own description" if app else "read the token's user"
        try:
            authorization = (
                f"Bearer {self._credentials.app_jwt()}"
                if isinstance(self._credentials, AppCredentials)
                else None
            )
            response = self._request(
                "GET",
                "/app" if app else "/user",
                repo="",
                action=action,
                authorization=authorization,
            )
            data = json_or_fail(response, action)
            self._actor = f"{data['slug']}[bot]" if app else str(data["login"])
        except (TrackerError, KeyError, TypeError) as error:
            log.warning("could not %s: %s", action, error)
        return self._actor

    def create_issue(self, draft: IssueDraft) -> TrackedIssue:
        """Create the issue in one request; GitHub creates labels the repo lacks."""
        owner, name = split_repo(draft.repo)
        action = f"create an issue in {draft.repo}"
        response = self._request(
            "POST",
            f"/repos/{owner}/{name}/issues",
            repo=draft.repo,
            action=action,
            json={"title": draft.title, "body": draft.body, "labels": unique_labels(draft.labels)},
            write=True,
        )
        try:
            issue = tracked_issue(draft.repo, response.json())
        except (ValueError, KeyError, TypeError):
            raise OutcomeUnknownError(f"GitHub's answer to {action} could not be read") from None
        log.info("created issue %s#%s", draft.repo, issue.number)
        dropped = {name.lower() for name in draft.labels} - {n.lower() for n in issue.labels}
        if dropped:
            # GitHub silently drops labels when the credentials lack push access.
            log.warning(
                "GitHub left labels %s off %s#%s", sorted(dropped), draft.repo, issue.number
            )
        return issue

    def find_issue_by_marker(
        self, repo: str, marker: str, *, created_since: datetime
    ) -> TrackedIssue | None:
        """The newest issue whose body holds ``marker``, among those created since then.

        Lists the repo's issues newest first (never the search API, whose index
        lags), 100 a page, and stops at the first one older than ``created_since``.
        Only an issue the bridge's own identity wrote counts: anyone can paste a marker.
        """
        login = self._own_login()
        owner, name = split_repo(repo)
        since = aware(created_since)
        params: dict[str, str | int] = {
            "state": "all",
            "sort": "created",
            "direction": "desc",
            "per_page": PER_PAGE,
        }
        action = f"list the issues of {repo}"
        for page in self._pages(repo, f"/repos/{owner}/{name}/issues", params, action):
            for item in page:
                issue = self._read_issue(repo, item, action)
                if issue.created_at < since:
                    return None
                if (
                    "pull_request" not in item
                    and marker in (issue.body or "")
                    and written_by(item, login)
                ):
                    return issue
        return None

    # ------------------------------------------------------------------ beyond the port

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
        """Edit the bridge's comment that holds ``marker``, or create it; return its id.

        ``body`` must contain the marker, so the next call finds the comment again.
        Without one, the bridge's comment holding the former marker ``adopt`` is
        edited into it. An unchanged comment is not written again; with
        ``create=False`` a missing comment stays missing (None).
        """
        if marker not in body:
            raise ValueError("the comment body must contain its marker")
        login = self._own_login()
        owner, name = split_repo(repo)
        action = f"list the comments of {repo}#{number}"
        path = f"/repos/{owner}/{name}/issues/{number}/comments"
        existing = self._find_comment(repo, path, (marker, adopt), login, action)
        if existing is not None:
            comment_id = as_int(existing["id"])
            if existing.get("body") != body:
                self._request(
                    "PATCH",
                    f"/repos/{owner}/{name}/issues/comments/{comment_id}",
                    repo=repo,
                    action=f"edit comment {comment_id} of {repo}#{number}",
                    json={"body": body},
                    write=True,
                )
            return comment_id
        if not create:
            return None
        action = f"comment on {repo}#{number}"
        response = self._request(
            "POST", path, repo=repo, action=action, json={"body": body}, write=True
        )
        try:
            return as_int(response.json()["id"])
        except (ValueError, KeyError, TypeError):
            raise OutcomeUnknownError(f"GitHub's answer to {action} could not be read") from None

    def iter_issues(
        self,
        repo: str,
        labels: Sequence[str],
        *,
        state: str = "all",
        since: datetime | None = None,
    ) -> Iterator[TrackedIssue]:
        """Every issue of the repo carrying all ``labels`` (pull requests skipped).

        100 a page, following GitHub's ``Link: rel=next``; ``since`` keeps only
        issues updated at or after that time.
        """
        owner, name = split_repo(repo)
        params: dict[str, str | int] = {"state": state, "per_page": PER_PAGE}
        if labels:
            params["labels"] = ",".join(labels)
        if since is not None:
            params["since"] = aware(since).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        action = f"list the issues of {repo}"
        for page in self._pages(repo, f"/repos/{owner}/{name}/issues", params, action):
            for item in page:
                if "pull_request" not in item:
                    yield self._read_issue(repo, item, action)

    def repo_labels(self, repo: str) -> frozenset[str]:
        """Names of the repo's labels (this also proves the App can reach the repo)."""
        owner, name = split_repo(repo)
        action = f"list the labels of {repo}"
        return frozenset(
            str(label["name"])
            for page in self._pages(
                repo, f"/repos/{owner}/{name}/labels", {"per_page": PER_PAGE}, action
            )
            for label in page
            if isinstance(label, dict) and "name" in label
        )

    def add_labels(self, repo: str, number: int, labels: Sequence[str]) -> None:
        """Add ``labels`` to the issue; GitHub keeps the ones it has (one write)."""
        owner, name = split_repo(repo)
        self._request(
            "POST",
            f"/repos/{owner}/{name}/issues/{number}/labels",
            repo=repo,
            action=f"label {repo}#{number}",
            json={"labels": list(labels)},
            write=True,
        )

    def canonical_issue(self, repo: str, number: int) -> tuple[str, int] | None:
        """The issue ``number`` was closed as a duplicate of: ``(repo, number)``.

        GitHub records it as a ``MarkedAsDuplicateEvent`` (GraphQL); an older
        habit, a "Duplicate of #N" comment, is the fallback, counted only from
        someone with write access (OWNER, MEMBER or COLLABORATOR).
        """
        owner, name = split_repo(repo)
        action = f"read the duplicate mark of {repo}#{number}"
        response = self._request(
            "POST",
            "/graphql",
            repo=repo,
            action=action,
            json={
                "query": CANONICAL_QUERY,
                "variables": {"owner": owner, "name": name, "number": number},
            },
        )
        data = json_or_fail(response, action)
        if not isinstance(data, dict) or data.get("errors"):
            raise TrackerError(f"GitHub's answer to {action} holds errors")
        issue = ((data.get("data") or {}).get("repository") or {}).get("issue") or {}
        for event in reversed((issue.get("timelineItems") or {}).get("nodes") or []):
            canonical = (event or {}).get("canonical") or {}
            if isinstance(canonical.get("number"), int):
                target = (canonical.get("repository") or {}).get("nameWithOwner") or repo
                return str(target), int(canonical["number"])
        path = f"/repos/{owner}/{name}/issues/{number}/comments"
        found: tuple[str, int] | None = None
        for page in self._pages(repo, path, {"per_page": PER_PAGE}, action):
            for comment in page:
                match = DUPLICATE_COMMENT.search(str((comment or {}).get("body") or ""))
                if match and has_write_access(comment):
                    found = (repo, int(match.group(1)))
        return found

    # ------------------------------------------------------------ boards (github_app.projects)

    def add_to_board(
        self,
        project: ProjectRef,
        repo: str,
        number: int,
        *,
        node_id: str = "",
        votes: int | None = None,
    ) -> str:
        """Put the issue on the board and set its Votes; return the card's id."""
        return self._boards.add(project, repo, number, node_id=node_id, votes=votes)

    def set_board_votes(self, project: ProjectRef, repo: str, number: int, votes: int) -> bool:
        """Set the Votes field of the issue's card; False when it has none."""
        return self._boards.set_votes(project, repo, number, votes)

    def iter_board_items(self, project: ProjectRef, repo: str) -> Iterator[BoardItem]:
        """Every issue card on the board that is not archived, 100 per read."""
        return self._boards.items(project, repo)

    def read_board_item(
        self, repo: str, *, item_id: str, project_id: str, content_id: str
    ) -> BoardItemState:
        """A webhook's card, its board and its issue, in one read."""
        return self._boards.read_item(
            repo, item_id=item_id, project_id=project_id, content_id=content_id
        )

    def board_shape(self, project: ProjectRef, repo: str) -> BoardShape:
        """Who owns the board and which Status and Votes fields it has."""
        return self._boards.shape(project, repo)

    def close(self) -> None:
        """Close the HTTP client (a later call opens a new one)."""
        with self._gh_lock:
            gh, self._gh = self._gh, None
        if gh is not None:
            gh.close()

    # ------------------------------------------------------------------ plumbing

    def _ready(self) -> Credentials:
        if self._credentials is None:
            raise TrackerNotConfiguredError(self._problem or "GitHub is not configured")
        self._credentials.check()
        return self._credentials

    def _github(self) -> SharedGitHub:
        gh = self._gh
        if gh is None:
            with self._gh_lock:
                if self._gh is None:
                    from github_app.kit import SharedGitHub

                    self._gh = SharedGitHub(
                        base_url=self.api_url,
                        timeout=self._timeout,
                        user_agent=self._user_agent,
                        transport=self._transport,
                    )
                gh = self._gh
        return gh

    def _request(
        self,
        method: str,
        url: str,
        *,
        repo: str,
        action: str,
        params: dict[str, str | int] | None = None,
        json: Any = None,
        write: bool = False,
        authorization: str | None = None,
    ) -> httpx.Response:
        """Send one request; failures become TrackerErrors safe to log."""
        from github_app import kit

        credentials = self._ready()
        header = authorization or credentials.authorization(repo)
        headers = {"Authorization": header, "X-GitHub-Api-Version": API_VERSION}
        try:
            return kit.send(self._github(), method, url, headers=headers, params=params, json=json)
        except kit.Failed as failed:
            response = failed.response
            if response.status_code == 401 and authorization is None:
                credentials.token_rejected(repo, header)
            if response.status_code == 404 and repo:
                credentials.repo_not_found(repo)
            raise error_for_response(
                response.status_code,
                response.headers,
                json_or_none(response),
                action=action,
                now=self._clock(),
                not_found=self._not_found(repo),
            ) from None
        except kit.NoAnswer as lost:
            raise error_for_transport(lost.cause, action=action, write=write) from lost.cause

    def _graphql(
        self,
        query: str,
        variables: Mapping[str, Any],
        *,
        repo: str,
        action: str,
        write: bool = False,
    ) -> GraphQLAnswer:
        """One GraphQL document as the installation of ``repo``."""
        response = self._request(
            "POST",
            "/graphql",
            repo=repo,
            action=action,
            json={"query": query, "variables": dict(variables)},
            write=write,
        )
        return read_answer(response, action, now=self._clock())

    def _app_api(self, method: str, path: str, *, authorization: str, repo: str) -> Any:
        """The calls an App makes with its JWT (installation lookup, token)."""
        if path.endswith("/installation"):
            action = f"find the App's installation on {repo}"
        else:
            action = "create an installation token"
        response = self._request(
            method, path, repo=repo, action=action, authorization=authorization
        )
        return json_or_fail(response, action)

    def _not_found(self, repo: str) -> str:
        if isinstance(self._credentials, AppCredentials):
            return f"the App is not installed on {repo}, or that repository does not exist"
        return f"{repo} does not exist, or the token cannot see it"

    def _pages(
        self, repo: str, path: str, params: dict[str, str | int], action: str
    ) -> Iterator[list[Any]]:
        url: str = path
        query: dict[str, str | int] | None = params
        for _ in range(MAX_PAGES):
            response = self._request("GET", url, repo=repo, action=action, params=query)
            items = json_or_fail(response, action)
            if not isinstance(items, list):
                raise TrackerError(f"GitHub's answer to {action} is not a list")
            yield items
            next_url = response.links.get("next", {}).get("url")
            if not next_url:
                return
            url, query = self._same_origin(next_url, action), None
        raise TrackerError(f"gave up to {action} after {MAX_PAGES} pages")

    def _same_origin(self, url: str, action: str) -> str:
        """A ``Link`` URL we may send our token to: under the API URL, else an error."""
        base = self.api_url + "/"
        if not url.startswith(base):
            raise TrackerError(f"GitHub's next page for {action} points outside {self.api_url}")
        return url

    def _find_comment(
        self, repo: str, path: str, markers: tuple[str, str | None], login: str, action: str
    ) -> dict[str, Any] | None:
        """The first comment ``login`` wrote holding the first marker, else the first holding
        the second (a former marker); others' copies are ignored."""
        marker, former = markers
        adoptable: dict[str, Any] | None = None
        for page in self._pages(repo, path, {"per_page": PER_PAGE}, action):
            for comment in page:
                if not isinstance(comment, dict) or not written_by(comment, login):
                    continue
                text = comment.get("body") or ""
                if marker in text:
                    return comment
                if former is not None and adoptable is None and former in text:
                    adoptable = comment
        return adoptable

    def _own_login(self) -> str:
        """The bridge's own login, or TrackerError (retried later): without it no marker
        on GitHub can be trusted."""
        login = self.actor_login()
        if login is None:
            raise TrackerError(
                "cannot tell which login the bridge writes as, so no marker can be trusted yet"
            )
        return login

    def _read_issue(self, repo: str, item: Any, action: str) -> TrackedIssue:
        try:
            return tracked_issue(repo, item)
        except (ValueError, KeyError, TypeError):
            raise TrackerError(f"GitHub's answer to {action} holds an unreadable issue") from None
