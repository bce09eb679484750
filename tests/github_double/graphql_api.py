"""``POST /graphql``: validate against GitHub's schema, then run pluggable resolvers.

Validation is the point: every document is parsed and validated against
``@octokit/graphql-schema``'s ``schema.graphql`` (plus GitHub's rule that a connection
listing ``nodes``/``edges`` needs ``first``/``last`` of at most 100) and variables are
coerced against the operation's definitions. Execution uses graphql-core's default
resolver over plain dicts: a root field resolves through
``double.graphql_resolvers[name](info, **args)``; dict values that are callables act
as field resolvers with arguments.
"""

from __future__ import annotations

import base64
import functools
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import graphql
from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    IntValueNode,
    ValidationRule,
)

from tests.github_double.shapes import WEB, ts
from tests.github_double.state import Issue, Label, Repo, User

if TYPE_CHECKING:
    from tests.github_double.auth import Principal
    from tests.github_double.double import GitHubDouble

SCHEMA_PATH = (
    Path(__file__).resolve().parents[2] / "node_modules/@octokit/graphql-schema/schema.graphql"
)
MAX_PAGE = 100
Resolver = Callable[..., Any]

_lock = threading.Lock()


@functools.cache
def _load_schema() -> GraphQLSchema:
    source = SCHEMA_PATH.read_text(encoding="utf-8")
    # The published SDL repeats two EnterpriseOwnerInfo fields and deprecates a few
    # interface implementations; graphql-core 3.3 rejects both, GitHub serves it anyway.
    return graphql.build_ast_schema(
        graphql.parse(source, no_location=True), assume_valid_sdl=True, assume_valid=True
    )


def schema() -> GraphQLSchema:
    """The process-wide schema, built on first use (about 0.8 s)."""
    with _lock:
        return _load_schema()


class PaginationBoundsRule(ValidationRule):
    """GitHub's connection rule: ``nodes``/``edges`` need ``first`` or ``last`` ≤ 100."""

    def enter_field(self, node: FieldNode, *_args: Any) -> None:
        """Check one field selection."""
        field_def = self.context.get_field_def()
        if field_def is None or "first" not in field_def.args:
            return
        args = {arg.name.value: arg.value for arg in node.arguments or ()}
        name = node.name.value
        for key in ("first", "last"):
            value = args.get(key)
            if isinstance(value, IntValueNode) and int(value.value) > MAX_PAGE:
                self.report_error(
                    GraphQLError(
                        f"Requesting {value.value} records on the `{name}` connection "
                        f"exceeds the `{key}` limit of {MAX_PAGE} records.",
                        node,
                    )
                )
        selected = {
            sel.name.value
            for sel in (node.selection_set.selections if node.selection_set else ())
            if isinstance(sel, FieldNode)
        }
        if selected & {"nodes", "edges"} and not args.keys() & {"first", "last"}:
            self.report_error(
                GraphQLError(
                    f"You must provide a `first` or `last` value to properly paginate "
                    f"the `{name}` connection.",
                    node,
                )
            )


@functools.lru_cache(maxsize=1024)
def check_document(query: str) -> tuple[DocumentNode | None, tuple[str, ...]]:
    """Parse and validate a document (cached by text: clients repeat theirs)."""
    try:
        document = graphql.parse(query)
    except GraphQLError as exc:
        return None, (exc.message,)
    rules = [*graphql.specified_rules, PaginationBoundsRule]
    errors = graphql.validate(schema(), document, rules)
    return document, tuple(error.message for error in errors)


@dataclass(frozen=True, slots=True)
class GraphQLContext:
    """What resolvers get as ``info.context``."""

    double: GitHubDouble
    principal: Principal | None


def handle(
    payload: Any, double: GitHubDouble, principal: Principal | None
) -> tuple[dict[str, Any], list[str]]:
    """The response body for a GraphQL request and the violations it showed."""
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        message = "A query attribute must be specified and must be a string."
        return {"errors": [{"message": message}]}, [message]
    variables = payload.get("variables") or {}
    op_name = payload.get("operationName")
    document, problems = check_document(payload["query"])
    if document is None or problems:
        return {"errors": [{"message": m} for m in problems]}, list(problems)
    operation = graphql.get_operation_ast(document, op_name)
    if operation is None or not isinstance(variables, dict):
        message = "the operation to run is ambiguous, missing, or variables is not an object"
        return {"errors": [{"message": message}]}, [message]
    coerced = graphql.get_variable_values(schema(), operation.variable_definitions or (), variables)
    if isinstance(coerced, list):
        messages = [error.message for error in coerced]
        return {"errors": [{"message": m} for m in messages]}, messages
    resolvers = double.graphql_resolvers
    missing = [
        sel.name.value
        for sel in operation.selection_set.selections
        if isinstance(sel, FieldNode)
        and sel.name.value not in resolvers
        and not sel.name.value.startswith("__")
    ]
    if missing:
        # Not the client's fault: the double lacks a resolver. Say so loudly.
        message = (
            f"the GitHub double has no resolver for {missing}; "
            "register one in double.graphql_resolvers"
        )
        return {"errors": [{"type": "DOUBLE_NOT_IMPLEMENTED", "message": message}]}, []
    result = graphql.execute_sync(
        schema(),
        document,
        root_value=resolvers,
        context_value=GraphQLContext(double, principal),
        variable_values=variables,
        operation_name=op_name,
    )
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [_github_error(error) for error in result.errors]
    return body, []


def _github_error(error: GraphQLError) -> dict[str, Any]:
    # GitHub puts the error class (NOT_FOUND, FORBIDDEN, ...) at the top level as "type".
    out: dict[str, Any] = dict(error.formatted)
    extensions = out.pop("extensions", None) or {}
    if "type" in extensions:
        out = {"type": extensions["type"], **out}
    return out


# ---------------------------------------------------------------------------- resolvers


def connection(
    items: Sequence[Any], first: int | None = None, after: str | None = None, **_: Any
) -> dict[str, Any]:
    """A GitHub-style connection page over ``items`` (cursors are opaque offsets)."""
    start = int(base64.b64decode(after).decode().split(":")[1]) + 1 if after else 0
    end = len(items) if first is None else min(len(items), start + first)
    edges = [
        {"cursor": base64.b64encode(f"cursor:{i}".encode()).decode(), "node": items[i]}
        for i in range(start, end)
    ]
    return {
        "totalCount": len(items),
        "nodes": [edge["node"] for edge in edges],
        "edges": edges,
        "pageInfo": {
            "hasNextPage": end < len(items),
            "hasPreviousPage": start > 0,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


def actor_node(user: User) -> dict[str, Any]:
    """An ``Actor`` (User, Bot or Organization)."""
    return {
        "__typename": user.type,
        "id": user.node_id,
        "login": user.login,
        "url": f"{WEB}/{user.login}",
    }


def label_node(label: Label) -> dict[str, Any]:
    """A ``Label``."""
    return {
        "__typename": "Label",
        "id": label.node_id,
        "name": label.name,
        "color": label.color,
        "description": label.description,
    }


def issue_node(repo: Repo, issue: Issue) -> dict[str, Any]:
    """An ``Issue`` with the fields the bridge reads."""
    return {
        "__typename": "PullRequest" if issue.is_pull_request else "Issue",
        "id": issue.node_id,
        "databaseId": issue.id,
        "number": issue.number,
        "title": issue.title,
        "body": issue.body or "",
        "url": f"{WEB}/{repo.full_name}/issues/{issue.number}",
        "state": issue.state.upper(),
        "stateReason": issue.state_reason.upper() if issue.state_reason else None,
        "closed": issue.state == "closed",
        "createdAt": ts(issue.created_at),
        "updatedAt": ts(issue.updated_at),
        "closedAt": ts(issue.closed_at),
        "author": actor_node(issue.user),
        "repository": lambda _info: repo_node(repo),
        "labels": lambda _info, **a: connection([label_node(x) for x in issue.labels], **a),
        "reactions": lambda _info, content=None, **a: connection(
            [{"__typename": "Reaction"}] * _reaction_count(issue, content), **a
        ),
        "projectItems": lambda info, includeArchived=True, **a: connection(
            info.context.double.projects.items_of(issue, includeArchived), **a
        ),
        "timelineItems": lambda _info, itemTypes=None, **a: connection(
            _duplicate_events(repo, issue, itemTypes), **a
        ),
    }


def _duplicate_events(repo: Repo, issue: Issue, item_types: list[str] | None) -> list[Any]:
    """The ``MarkedAsDuplicateEvent`` GitHub records when an issue is closed as a duplicate."""
    if item_types is not None and "MARKED_AS_DUPLICATE_EVENT" not in item_types:
        return []
    canonical = repo.issues.get(issue.duplicate_of) if issue.duplicate_of else None
    if canonical is None:
        return []
    return [
        {
            "__typename": "MarkedAsDuplicateEvent",
            "canonical": issue_node(repo, canonical),
            "duplicate": issue_node(repo, issue),
            "createdAt": ts(issue.closed_at),
            "isCrossRepository": False,
        }
    ]


def _reaction_count(issue: Issue, content: str | None) -> int:
    names = {"THUMBS_UP": "+1", "THUMBS_DOWN": "-1"}
    if content is None:
        return sum(issue.reactions.values())
    return issue.reactions.get(names.get(content, content.lower()), 0)


def repo_node(repo: Repo) -> dict[str, Any]:
    """A ``Repository`` with ``issue(number)`` and a simple ``issues`` connection."""

    def issues(
        _info: Any, states: list[str] | None = None, labels: list[str] | None = None, **page: Any
    ) -> dict[str, Any]:
        wanted = {name.lower() for name in labels or ()}
        picked = [
            issue_node(repo, i)
            for i in sorted(repo.issues.values(), key=lambda i: i.number)
            if not i.is_pull_request
            and (not states or i.state.upper() in states)
            # GitHub's labels filter matches issues carrying any of the labels.
            and (not wanted or wanted & {label.name.lower() for label in i.labels})
        ]
        return connection(picked, **page)

    def issue(_info: Any, number: int) -> dict[str, Any] | None:
        found = repo.issues.get(number)
        return issue_node(repo, found) if found and not found.is_pull_request else None

    return {
        "__typename": "Repository",
        "id": repo.node_id,
        "databaseId": repo.id,
        "name": repo.name,
        "nameWithOwner": repo.full_name,
        "url": f"{WEB}/{repo.full_name}",
        "owner": actor_node(repo.owner),
        "issue": issue,
        "issues": issues,
    }


def _visible(info: Any, record: Any) -> dict[str, Any] | None:
    ctx: GraphQLContext = info.context
    world = ctx.double.world
    seen = ctx.principal.repos if ctx.principal else frozenset()
    if isinstance(record, Repo):
        return repo_node(record) if record.full_name.lower() in seen else None
    if isinstance(record, Issue):
        for repo in world.repos.values():
            if repo.issues.get(record.number) is record and repo.full_name.lower() in seen:
                return issue_node(repo, record)
    if isinstance(record, Label):
        return label_node(record)
    if isinstance(record, User):
        return actor_node(record)
    return ctx.double.projects.visible_node(ctx, record)  # boards: tests/github_double/projects


def resolve_repository(info: Any, owner: str, name: str, **_: Any) -> dict[str, Any]:
    """``repository(owner, name)``; out of reach reads as missing, as on GitHub."""
    ctx: GraphQLContext = info.context
    repo = ctx.double.world.repo(f"{owner}/{name}")
    found = _visible(info, repo) if repo else None
    if found is None:
        raise GraphQLError(
            f"Could not resolve to a Repository with the name '{owner}/{name}'.",
            extensions={"type": "NOT_FOUND"},
        )
    return found


def resolve_node(info: Any, id: str) -> dict[str, Any] | None:
    """``node(id)``."""
    record = info.context.double.world.nodes.get(id)
    return _visible(info, record) if record is not None else None


def resolve_nodes(info: Any, ids: list[str]) -> list[dict[str, Any] | None]:
    """``nodes(ids)``."""
    return [resolve_node(info, node_id) for node_id in ids]


def default_resolvers() -> dict[str, Resolver]:
    """The root fields every double answers; tests add theirs to the returned dict."""
    return {
        "repository": resolve_repository,
        "node": resolve_node,
        "nodes": resolve_nodes,
    }
