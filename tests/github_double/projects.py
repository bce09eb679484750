"""GitHub Projects (v2) in the double: boards, their fields and items, over GraphQL.

Records (``Project``, ``Field``, ``Item``, ``DraftIssue``) live in a ``Boards`` store
held by the double as ``double.projects``; their node ids are registered in
``world.nodes`` so that ``node(id)`` finds them. Root fields added to the double's
resolvers: ``organization``, ``user``, ``addProjectV2ItemById`` and
``updateProjectV2ItemFieldValue``; ``node(id)`` and ``Issue.projectItems`` reach the
boards through two small hooks in ``graphql_api``.

Visibility follows GitHub: an App installation (or a token) sees the boards of an
organization whose repositories it can see; user-owned boards answer only under
``user(login)``, never ``organization(login)``, and no App can write to them.
Seeding helpers (``double.add_project(...)`` and friends) come from ``BoardSeeding``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError

from tests.github_double.shapes import WEB, ts
from tests.github_double.state import Issue, Repo, User, World, node_id

if TYPE_CHECKING:
    from tests.github_double.graphql_api import GraphQLContext, Resolver

DEFAULT_STATUS_OPTIONS = ("Todo", "In Progress", "Done")
_OPTION_IDS = itertools.count(0x1A2B3C)


@dataclass(eq=False, slots=True)
class Option:
    """One option of a single-select field."""

    id: str
    name: str


@dataclass(eq=False, slots=True)
class Field:
    """A project field; ``data_type`` is GitHub's ``ProjectV2FieldType``."""

    node_id: str
    name: str
    data_type: str
    options: list[Option] = field(default_factory=list)

    def option_named(self, name: str) -> Option:
        """The option called ``name``; KeyError when there is none."""
        for option in self.options:
            if option.name == name:
                return option
        raise KeyError(f"field {self.name!r} has no option {name!r}")


@dataclass(eq=False, slots=True)
class DraftIssue:
    """A draft issue: a card that lives only on the board."""

    node_id: str
    title: str


@dataclass(eq=False, slots=True)
class Item:
    """A card on a board: an issue, a pull request or a draft issue."""

    node_id: str
    project: Project = field(repr=False)
    content: Issue | DraftIssue
    repo: Repo | None
    created_at: datetime
    updated_at: datetime
    archived: bool = False
    values: dict[str, str | float] = field(default_factory=dict)  # field node id -> value

    @property
    def type(self) -> str:
        """GitHub's ``ProjectV2ItemType``."""
        if isinstance(self.content, DraftIssue):
            return "DRAFT_ISSUE"
        return "PULL_REQUEST" if self.content.is_pull_request else "ISSUE"


@dataclass(eq=False, slots=True)
class Project:
    """A Projects (v2) board of an organization or a user."""

    node_id: str
    owner: User
    number: int
    title: str
    fields: list[Field] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)

    def field_named(self, name: str) -> Field | None:
        """The field called ``name`` (GitHub matches field names exactly)."""
        return next((f for f in self.fields if f.name == name), None)


class Boards:
    """Every board of one double, and the GraphQL shapes of its records."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.projects: dict[tuple[str, int], Project] = {}

    # ------------------------------------------------------------------ records

    def add(
        self,
        owner: User,
        number: int,
        *,
        title: str,
        status_options: Iterable[str] | None,
        votes_field: bool,
        extra_fields: Mapping[str, str] | None = None,
    ) -> Project:
        """Create a board with GitHub's built-in fields plus the ones asked for."""
        key = (owner.login.lower(), number)
        if key in self.projects:
            raise ValueError(f"{owner.login} already has project {number}")
        project = self._register(
            Project(node_id("PVT", self.world.next_id()), owner, number, title)
        )
        project.fields.append(self._field("Title", "TITLE"))
        project.fields.append(self._field("Assignees", "ASSIGNEES"))
        if status_options is not None:
            status = self._field("Status", "SINGLE_SELECT")
            status.options = [Option(f"{next(_OPTION_IDS):08x}", name) for name in status_options]
            project.fields.append(status)
        project.fields.append(self._field("Labels", "LABELS"))
        if votes_field:
            project.fields.append(self._field("Votes", "NUMBER"))
        for name, data_type in (extra_fields or {}).items():
            project.fields.append(self._field(name, data_type))
        self.projects[key] = project
        return project

    def add_item(self, project: Project, content: Issue | DraftIssue, repo: Repo | None) -> Item:
        """Put ``content`` on the board (GitHub keeps one card per issue)."""
        for item in project.items:
            if item.content is content:
                return item
        now = self.world.now()
        item = Item(node_id("PVTI", self.world.next_id()), project, content, repo, now, now)
        project.items.append(self._register(item))
        return item

    def draft(self, title: str) -> DraftIssue:
        """A new draft issue (not on any board yet)."""
        return self._register(DraftIssue(node_id("DI", self.world.next_id()), title))

    def remove_item(self, item: Item) -> None:
        """Delete a card from its board."""
        item.project.items.remove(item)
        self.world.nodes.pop(item.node_id, None)

    def item_of(self, project: Project, issue: Issue) -> Item | None:
        """The issue's card on the board, if it has one."""
        return next((i for i in project.items if i.content is issue), None)

    def items_of(self, issue: Issue, include_archived: bool) -> list[dict[str, Any]]:
        """``Issue.projectItems``: the issue's cards on every board."""
        return [
            self.item_node(item)
            for project in self.projects.values()
            for item in project.items
            if item.content is issue and (include_archived or not item.archived)
        ]

    def _field(self, name: str, data_type: str) -> Field:
        prefix = "PVTSSF" if data_type == "SINGLE_SELECT" else "PVTF"
        return self._register(Field(node_id(prefix, self.world.next_id()), name, data_type))

    def _register(self, record: Any) -> Any:
        self.world.nodes[record.node_id] = record
        return record

    # ------------------------------------------------------------------ visibility

    def can_see(self, ctx: GraphQLContext, project: Project) -> bool:
        """Organization boards of an account whose repositories the caller sees."""
        if project.owner.type != "Organization" or ctx.principal is None:
            return False
        owner = project.owner.login.lower() + "/"
        return any(repo.startswith(owner) for repo in ctx.principal.repos)

    def visible_node(self, ctx: GraphQLContext, record: Any) -> dict[str, Any] | None:
        """``node(id)`` for the board records."""
        if isinstance(record, Project):
            return self.project_node(record) if self.can_see(ctx, record) else None
        if isinstance(record, Item):
            return self.item_node(record) if self.can_see(ctx, record.project) else None
        if isinstance(record, DraftIssue):
            return {"__typename": "DraftIssue", "id": record.node_id, "title": record.title}
        if isinstance(record, Field):
            return self.field_node(record)
        return None

    # ------------------------------------------------------------------ GraphQL shapes

    def project_node(self, project: Project) -> dict[str, Any]:
        """A ``ProjectV2``."""
        from tests.github_double.graphql_api import actor_node, connection

        kind = "orgs" if project.owner.type == "Organization" else "users"
        return {
            "__typename": "ProjectV2",
            "id": project.node_id,
            "number": project.number,
            "title": project.title,
            "closed": False,
            "public": False,
            "url": f"{WEB}/{kind}/{project.owner.login}/projects/{project.number}",
            "owner": actor_node(project.owner),
            "field": lambda _info, name: self._field_or_none(project, name),
            "fields": lambda _info, **page: connection(
                [self.field_node(f) for f in project.fields], **page
            ),
            "items": lambda _info, **page: connection(
                [self.item_node(i) for i in project.items], **page
            ),
        }

    def _field_or_none(self, project: Project, name: str) -> dict[str, Any] | None:
        found = project.field_named(name)
        return self.field_node(found) if found is not None else None

    @staticmethod
    def field_node(f: Field) -> dict[str, Any]:
        """A ``ProjectV2SingleSelectField`` or a ``ProjectV2Field``."""
        node: dict[str, Any] = {"id": f.node_id, "name": f.name, "dataType": f.data_type}
        if f.data_type != "SINGLE_SELECT":
            return {"__typename": "ProjectV2Field", **node}
        return {
            "__typename": "ProjectV2SingleSelectField",
            **node,
            "options": lambda _info, names=None: [
                {
                    "id": o.id,
                    "name": o.name,
                    "nameHTML": o.name,
                    "color": "GRAY",
                    "description": "",
                    "descriptionHTML": "",
                }
                for o in f.options
                if names is None or o.name in names
            ],
        }

    def item_node(self, item: Item) -> dict[str, Any]:
        """A ``ProjectV2Item``."""
        return {
            "__typename": "ProjectV2Item",
            "id": item.node_id,
            "type": item.type,
            "isArchived": item.archived,
            "createdAt": ts(item.created_at),
            "updatedAt": ts(item.updated_at),
            "content": lambda _info: self._content_node(item),
            "project": lambda _info: self.project_node(item.project),
            "fieldValueByName": lambda _info, name: self._value_node(item, name),
        }

    @staticmethod
    def _content_node(item: Item) -> dict[str, Any]:
        from tests.github_double.graphql_api import issue_node

        if isinstance(item.content, DraftIssue):
            return {"__typename": "DraftIssue", "id": item.content.node_id}
        assert item.repo is not None
        return issue_node(item.repo, item.content)

    def _value_node(self, item: Item, name: str) -> dict[str, Any] | None:
        f = item.project.field_named(name)
        value = item.values.get(f.node_id) if f is not None else None
        if f is None or value is None:
            return None
        common = {"id": f"{item.node_id}:{f.node_id}", "field": self.field_node(f)}
        if f.data_type == "SINGLE_SELECT":
            option = next((o for o in f.options if o.id == value), None)
            if option is None:  # the option was deleted: GitHub clears the value
                return None
            return {
                "__typename": "ProjectV2ItemFieldSingleSelectValue",
                **common,
                "name": option.name,
                "optionId": option.id,
                "color": "GRAY",
            }
        if f.data_type == "NUMBER":
            return {"__typename": "ProjectV2ItemFieldNumberValue", **common, "number": value}
        return {"__typename": "ProjectV2ItemFieldTextValue", **common, "text": str(value)}

    # ------------------------------------------------------------------ root resolvers

    def resolvers(self) -> dict[str, Resolver]:
        """The root fields boards add to the double's GraphQL."""
        return {
            "organization": self.resolve_organization,
            "user": self.resolve_user,
            "addProjectV2ItemById": self.add_item_by_id,
            "updateProjectV2ItemFieldValue": self.update_item_field_value,
        }

    def _owner_node(self, ctx: GraphQLContext, owner: User) -> dict[str, Any]:
        from tests.github_double.graphql_api import actor_node

        def project_v2(_info: Any, number: int) -> dict[str, Any]:
            project = self.projects.get((owner.login.lower(), number))
            visible = project is not None and (
                owner.type == "User" or self.can_see(ctx, project)  # user boards: read only
            )
            if project is None or not visible:
                raise GraphQLError(
                    f"Could not resolve to a ProjectV2 with the number {number}.",
                    extensions={"type": "NOT_FOUND"},
                )
            return self.project_node(project)

        return {**actor_node(owner), "name": owner.login, "projectV2": project_v2}

    def resolve_organization(self, info: Any, login: str) -> dict[str, Any]:
        """``organization(login)``: users (and unknown logins) are not found."""
        account = self.world.users.get(login.lower())
        if account is None or account.type != "Organization":
            raise GraphQLError(
                f"Could not resolve to an Organization with the login of '{login}'.",
                extensions={"type": "NOT_FOUND"},
            )
        return self._owner_node(info.context, account)

    def resolve_user(self, info: Any, login: str) -> dict[str, Any]:
        """``user(login)``: organizations (and unknown logins) are not found."""
        account = self.world.users.get(login.lower())
        if account is None or account.type != "User":
            raise GraphQLError(
                f"Could not resolve to a User with the login of '{login}'.",
                extensions={"type": "NOT_FOUND"},
            )
        return self._owner_node(info.context, account)

    def _node(self, ctx: GraphQLContext, node: str, kind: type) -> Any:
        record = self.world.nodes.get(node)
        project = record.project if isinstance(record, Item) else record
        if not isinstance(record, kind) or (
            isinstance(project, Project) and not self.can_see(ctx, project)
        ):
            raise GraphQLError(
                f"Could not resolve to a node with the global id of '{node}'",
                extensions={"type": "NOT_FOUND"},
            )
        return record

    def add_item_by_id(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        """``addProjectV2ItemById``: idempotent, as on GitHub (the card already there)."""
        ctx: GraphQLContext = info.context
        project = self._node(ctx, input["projectId"], Project)
        content = self.world.nodes.get(input["contentId"])
        repo = self._repo_of(ctx, content) if isinstance(content, Issue) else None
        if repo is None:
            raise GraphQLError(
                f"Could not resolve to a node with the global id of '{input['contentId']}'",
                extensions={"type": "NOT_FOUND"},
            )
        return {"item": self.item_node(self.add_item(project, content, repo))}

    def update_item_field_value(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        """``updateProjectV2ItemFieldValue`` for number, text and single-select fields."""
        ctx: GraphQLContext = info.context
        project = self._node(ctx, input["projectId"], Project)
        item = self._node(ctx, input["itemId"], Item)
        f = self._node(ctx, input["fieldId"], Field)
        if item.project is not project or f not in project.fields:
            raise GraphQLError("The item or the field does not belong to the project.")
        value = input["value"]
        if f.data_type == "NUMBER":
            if value.get("number") is None:
                raise GraphQLError(
                    "Did not receive a number value to update a field of type number"
                )
            item.values[f.node_id] = float(value["number"])
        elif f.data_type == "SINGLE_SELECT":
            option_id = value.get("singleSelectOptionId")
            if option_id not in {o.id for o in f.options}:
                raise GraphQLError("The single select option Id does not belong to the field")
            item.values[f.node_id] = option_id
        elif f.data_type == "TEXT" and value.get("text") is not None:
            item.values[f.node_id] = str(value["text"])
        else:
            raise GraphQLError(f"Cannot update a field of type {f.data_type.lower()}")
        item.updated_at = self.world.now()
        return {"projectV2Item": self.item_node(item)}

    def _repo_of(self, ctx: GraphQLContext, issue: Issue) -> Repo | None:
        seen = ctx.principal.repos if ctx.principal else frozenset()
        for repo in self.world.repos.values():
            if repo.issues.get(issue.number) is issue and repo.full_name.lower() in seen:
                return repo
        return None


class BoardSeeding:
    """The double's façade methods for boards (mixed into ``GitHubDouble``)."""

    world: World
    projects: Boards

    def add_project(
        self,
        owner: str,
        number: int,
        *,
        org: bool = True,
        status_options: Iterable[str] | None = DEFAULT_STATUS_OPTIONS,
        votes_field: bool = True,
        title: str = "Roadmap",
        extra_fields: Mapping[str, str] | None = None,
    ) -> Project:
        """Create board ``number`` of ``owner`` (an organization unless ``org=False``).

        ``status_options=None`` leaves out the Status field; ``votes_field=False`` the
        Votes number field; ``extra_fields`` maps more names to field types.
        """
        with self.world.lock:
            account = self.world.user(owner, "Organization" if org else "User")
            return self.projects.add(
                account,
                number,
                title=title,
                status_options=status_options,
                votes_field=votes_field,
                extra_fields=extra_fields,
            )

    def add_project_item(self, project: Project, repo: str, number: int) -> Item:
        """Put issue (or pull request) ``number`` of ``repo`` on the board, as a person would."""
        with self.world.lock:
            r = self.world.repo(repo)
            if r is None or number not in r.issues:
                raise KeyError(f"no issue #{number} in {repo}")
            return self.projects.add_item(project, r.issues[number], r)

    def add_draft_item(self, project: Project, title: str = "Idea") -> Item:
        """Put a draft issue on the board."""
        with self.world.lock:
            return self.projects.add_item(project, self.projects.draft(title), None)

    def set_item_status(self, project: Project, repo: str, number: int, option: str | None) -> Item:
        """Move the issue's card to Status ``option`` (None clears it); adds the card."""
        item = self.add_project_item(project, repo, number)
        with self.world.lock:
            status = project.field_named("Status")
            if status is None:
                raise KeyError("the project has no Status field")
            if option is None:
                item.values.pop(status.node_id, None)
            else:
                item.values[status.node_id] = status.option_named(option).id
            item.updated_at = self.world.now()
            return item

    def set_item_archived(self, item: Item, archived: bool = True) -> None:
        """Archive (or restore) a card."""
        with self.world.lock:
            item.archived = archived

    def delete_project_item(self, item: Item) -> None:
        """Remove a card from its board."""
        with self.world.lock:
            self.projects.remove_item(item)

    def project_item(self, project: Project, repo: str, number: int) -> Item | None:
        """The card of issue ``number`` on the board, if any."""
        with self.world.lock:
            r = self.world.repo(repo)
            issue = r.issues.get(number) if r is not None else None
            return self.projects.item_of(project, issue) if issue is not None else None

    def item_value(self, item: Item, field_name: str) -> str | float | None:
        """A card's value of a field: a number, text, or a single-select option's name."""
        with self.world.lock:
            f = item.project.field_named(field_name)
            value = item.values.get(f.node_id) if f is not None else None
            if f is not None and f.data_type == "SINGLE_SELECT" and value is not None:
                return next((o.name for o in f.options if o.id == value), None)
            return value
