"""What the double's GitHub holds: users, repositories, labels, issues, comments.

Plain records plus a ``World`` that owns them and the id counters. Rules GitHub
applies on writes (label auto-creation, length limits, close/reopen bookkeeping)
live here so that REST routes and test seeding helpers share them.
"""

from __future__ import annotations

import base64
import itertools
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

REACTIONS = ("+1", "-1", "laugh", "confused", "heart", "hooray", "eyes", "rocket")
STATE_REASONS = ("completed", "not_planned", "duplicate", "reopened")
TITLE_MAX = 256
BODY_MAX = 65_536
LABEL_NAME_MAX = 50
DEFAULT_LABEL_COLOR = "ededed"
_IDS = itertools.count(1_000_001)  # next() on a count is atomic under the GIL


class ValidationFailedError(Exception):
    """A write GitHub would refuse with 422 Validation Failed."""

    def __init__(self, resource: str, field_name: str, code: str, message: str = "") -> None:
        super().__init__(message or f"{resource}.{field_name} {code}")
        self.error: dict[str, str] = {"resource": resource, "field": field_name, "code": code}
        if message:
            self.error["message"] = message


@dataclass(slots=True)
class User:
    """A GitHub account: ``type`` is ``User``, ``Organization`` or ``Bot``."""

    login: str
    id: int
    node_id: str
    type: str = "User"


@dataclass(slots=True)
class Label:
    """A repository label."""

    id: int
    node_id: str
    name: str
    color: str = DEFAULT_LABEL_COLOR
    description: str | None = None
    default: bool = False


@dataclass(slots=True)
class Comment:
    """An issue comment."""

    id: int
    node_id: str
    issue_number: int
    body: str
    user: User
    created_at: datetime
    updated_at: datetime
    via_app: bool = False
    reactions: dict[str, int] = field(default_factory=dict)
    # "" : what GitHub would say of a stranger (NONE for bots, CONTRIBUTOR for people)
    author_association: str = ""


@dataclass(slots=True)
class Issue:
    """An issue (or a pull request, which shares the issue number sequence)."""

    id: int
    node_id: str
    number: int
    title: str
    body: str | None
    user: User
    created_at: datetime
    updated_at: datetime
    labels: list[Label] = field(default_factory=list)
    state: str = "open"
    state_reason: str | None = None
    closed_at: datetime | None = None
    closed_by: User | None = None
    duplicate_of: int | None = None
    reactions: dict[str, int] = field(default_factory=dict)
    comments: list[Comment] = field(default_factory=list)
    via_app: bool = False
    is_pull_request: bool = False


@dataclass(slots=True)
class Repo:
    """A repository and everything filed in it."""

    id: int
    node_id: str
    owner: User
    name: str
    created_at: datetime
    labels: dict[str, Label] = field(default_factory=dict)  # key: lower-case name
    issues: dict[int, Issue] = field(default_factory=dict)
    next_number: int = 1

    @property
    def full_name(self) -> str:
        """``owner/name`` as GitHub spells it."""
        return f"{self.owner.login}/{self.name}"


@dataclass(slots=True)
class Installation:
    """The App installed on an account, for a chosen set of repositories."""

    id: int
    account: User
    repos: set[str] = field(default_factory=set)  # lower-case full names


def utc_now() -> datetime:
    """Wall-clock now in UTC, truncated to seconds as GitHub's timestamps are."""
    return datetime.now(UTC).replace(microsecond=0)


def node_id(prefix: str, number: int) -> str:
    """An opaque GraphQL node id in GitHub's newer ``PREFIX_kw...`` style."""
    token = base64.urlsafe_b64encode(f"{prefix}:{number}".encode()).decode().rstrip("=")
    return f"{prefix}_kw{token}"


class World:
    """All state of one double; callers hold ``lock`` around reads and writes."""

    def __init__(self, now: Callable[[], datetime] = utc_now) -> None:
        self.now = now
        self.lock = threading.RLock()
        self.users: dict[str, User] = {}
        self.repos: dict[str, Repo] = {}  # key: lower-case full name
        self.nodes: dict[str, Any] = {}  # node_id -> record, for GraphQL node(id)
        self.installations: dict[int, Installation] = {}

    @staticmethod
    def next_id() -> int:
        """A fresh database id, unique across every double in the process.

        githubkit caches installation tokens process-wide by installation id: ids reused
        by the next test's double would hand it a token that double never issued.
        """
        return next(_IDS)

    def _register(self, record: Any) -> Any:
        self.nodes[record.node_id] = record
        return record

    # ------------------------------------------------------------------ accounts

    def user(self, login: str, type_: str = "User") -> User:
        """The account called ``login``, created on first mention."""
        key = login.lower()
        if key not in self.users:
            uid = self.next_id()
            prefix = {"Bot": "BOT", "Organization": "O"}.get(type_, "U")
            self.users[key] = self._register(User(login, uid, node_id(prefix, uid), type_))
        return self.users[key]

    # ------------------------------------------------------------------ repositories

    def add_repo(self, full_name: str) -> Repo:
        """The repository ``owner/name``, created (owned by an organization) if missing."""
        owner_login, _, name = full_name.partition("/")
        if not owner_login or not name or "/" in name:
            raise ValueError(f"repository must be 'owner/name', not {full_name!r}")
        key = full_name.lower()
        if key not in self.repos:
            rid = self.next_id()
            owner = self.user(owner_login, "Organization")
            self.repos[key] = self._register(Repo(rid, node_id("R", rid), owner, name, self.now()))
        return self.repos[key]

    def repo(self, full_name: str) -> Repo | None:
        """The repository ``owner/name`` (any case) or ``None``."""
        return self.repos.get(full_name.lower())

    def add_installation(self, account: str, repos: Iterable[str]) -> Installation:
        """Install the App on ``account`` for ``repos`` (``name`` or ``owner/name``).

        An App has one installation per account: installing again adds repositories.
        """
        owner = self.user(account, "Organization")
        inst = next((i for i in self.installations.values() if i.account is owner), None)
        inst = inst or Installation(self.next_id(), owner)
        for name in repos:
            full = name if "/" in name else f"{account}/{name}"
            inst.repos.add(self.add_repo(full).full_name.lower())
        self.installations[inst.id] = inst
        return inst

    def installation_for(self, repo: Repo) -> Installation | None:
        """The installation that covers ``repo``, if any."""
        key = repo.full_name.lower()
        return next((i for i in self.installations.values() if key in i.repos), None)

    # ------------------------------------------------------------------ labels

    def ensure_label(self, repo: Repo, name: str) -> Label:
        """The label called ``name`` (any case), created with GitHub's default colour."""
        found = repo.labels.get(name.lower())
        return found if found is not None else self.create_label(repo, name)

    def create_label(
        self,
        repo: Repo,
        name: str,
        color: str = DEFAULT_LABEL_COLOR,
        description: str | None = None,
    ) -> Label:
        """Create a label; GitHub refuses duplicates (any case) and long names."""
        name = name.strip()
        if not name:
            raise ValidationFailedError("Label", "name", "missing_field")
        if len(name) > LABEL_NAME_MAX:
            raise ValidationFailedError(
                "Label", "name", "custom", f"name is too long (maximum is {LABEL_NAME_MAX})"
            )
        color = color.removeprefix("#").lower()
        if len(color) != 6 or any(c not in "0123456789abcdef" for c in color):
            raise ValidationFailedError("Label", "color", "invalid")
        if name.lower() in repo.labels:
            raise ValidationFailedError("Label", "name", "already_exists")
        lid = self.next_id()
        label = Label(lid, node_id("LA", lid), name, color, description)
        repo.labels[name.lower()] = self._register(label)
        return label

    def _labels_from(self, repo: Repo, labels: Iterable[str | Mapping[str, Any]]) -> list[Label]:
        out: list[Label] = []
        for item in labels:
            name = item if isinstance(item, str) else str(item.get("name", ""))
            label = self.ensure_label(repo, name)
            if label not in out:
                out.append(label)
        return out

    # ------------------------------------------------------------------ issues

    def create_issue(
        self,
        repo: Repo,
        *,
        title: str,
        body: str | None,
        user: User,
        labels: Iterable[str | Mapping[str, Any]] = (),
        via_app: bool = False,
        created_at: datetime | None = None,
        is_pull_request: bool = False,
    ) -> Issue:
        """File an issue: labels missing from the repo are created, as GitHub does."""
        _check_issue_text(title, body)
        when = created_at or self.now()
        iid = self.next_id()
        issue = Issue(
            id=iid,
            node_id=node_id("PR" if is_pull_request else "I", iid),
            number=repo.next_number,
            title=title,
            body=body,
            user=user,
            created_at=when,
            updated_at=when,
            labels=self._labels_from(repo, labels),
            via_app=via_app,
            is_pull_request=is_pull_request,
        )
        repo.next_number += 1
        repo.issues[issue.number] = self._register(issue)
        return issue

    def update_issue(
        self, repo: Repo, issue: Issue, changes: Mapping[str, Any], actor: User
    ) -> None:
        """Apply a REST ``PATCH`` body's supported fields to an issue."""
        title = str(changes["title"]) if changes.get("title") is not None else issue.title
        body = changes.get("body", issue.body)
        _check_issue_text(title, body)
        issue.title, issue.body = title, body
        if changes.get("labels") is not None:
            issue.labels = self._labels_from(repo, changes["labels"])
        state = changes.get("state")
        if state == "closed":
            reason = changes.get("state_reason") or issue.state_reason or "completed"
            if reason == "reopened":
                reason = "completed"
            duplicate = None
            if reason == "duplicate" and changes.get("duplicate_issue_id") is not None:
                duplicate = self._issue_by_id(repo, int(changes["duplicate_issue_id"]))
            if issue.state != "closed":
                issue.closed_at, issue.closed_by = self.now(), actor
            issue.state, issue.state_reason = "closed", reason
            issue.duplicate_of = duplicate.number if duplicate else None
        elif state == "open" and issue.state == "closed":
            issue.state, issue.state_reason = "open", "reopened"
            issue.closed_at = issue.closed_by = issue.duplicate_of = None
        issue.updated_at = self.now()

    def _issue_by_id(self, repo: Repo, issue_id: int) -> Issue:
        for candidate in repo.issues.values():
            if candidate.id == issue_id:
                return candidate
        raise ValidationFailedError("Issue", "duplicate_issue_id", "invalid")

    # ------------------------------------------------------------------ comments

    def add_comment(
        self,
        issue: Issue,
        body: str,
        user: User,
        via_app: bool = False,
        author_association: str = "",
    ) -> Comment:
        """Comment on an issue; the issue's ``comments`` count and ``updated_at`` follow."""
        _check_body(body, "IssueComment")
        when = self.now()
        cid = self.next_id()
        comment = Comment(
            cid,
            node_id("IC", cid),
            issue.number,
            body,
            user,
            when,
            when,
            via_app,
            author_association=author_association,
        )
        issue.comments.append(self._register(comment))
        issue.updated_at = when
        return comment

    def edit_comment(self, comment: Comment, body: str) -> None:
        """Replace a comment's body."""
        _check_body(body, "IssueComment")
        comment.body, comment.updated_at = body, self.now()

    def find_comment(self, repo: Repo, comment_id: int) -> tuple[Issue, Comment] | None:
        """The comment with that id in the repo, with its issue."""
        for issue in repo.issues.values():
            for comment in issue.comments:
                if comment.id == comment_id:
                    return issue, comment
        return None


def _check_issue_text(title: str, body: str | None) -> None:
    if not title.strip():
        raise ValidationFailedError("Issue", "title", "missing_field")
    if len(title) > TITLE_MAX:
        raise ValidationFailedError(
            "Issue", "title", "custom", f"title is too long (maximum is {TITLE_MAX} characters)"
        )
    if body is not None:
        _check_body(body, "Issue")


def _check_body(body: str, resource: str) -> None:
    if resource == "IssueComment" and not body.strip():
        raise ValidationFailedError(resource, "body", "missing_field", "Body cannot be blank")
    if len(body) > BODY_MAX:
        raise ValidationFailedError(
            resource, "body", "custom", f"body is too long (maximum is {BODY_MAX} characters)"
        )
