"""What REST routes share: the route table, the request context, replies and errors."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlencode

from tests.github_double.shapes import error_json

if TYPE_CHECKING:
    from tests.github_double.auth import Principal
    from tests.github_double.double import GitHubDouble
    from tests.github_double.state import Repo

RouteAuth = Literal["jwt", "token", "none"]  # "none": GitHub asks for no credentials
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 30


class ApiError(Exception):
    """An error answer in GitHub's shape."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body = error_json(status, message, **extra)


def not_found() -> ApiError:
    """GitHub's 404, also its answer for repositories the caller may not see."""
    return ApiError(404, "Not Found")


@dataclass(slots=True)
class Reply:
    """A JSON answer."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Context:
    """One request as a route sees it."""

    double: GitHubDouble
    principal: Principal | None
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    url: str  # scheme://host/path the client used, for Link headers

    def repo(self) -> Repo:
        """The ``{owner}/{repo}`` of the path, or 404 if missing or out of the caller's reach."""
        full = f"{self.params['owner']}/{self.params['repo']}"
        repo = self.double.world.repo(full)
        if repo is None or self.principal is None or not self.principal.can_see(full):
            raise not_found()
        return repo

    def int_param(self, name: str) -> int:
        """A numeric path parameter; GitHub answers 404 for non-numbers."""
        value = self.params[name]
        if not value.isdigit():
            raise not_found()
        return int(value)


Handler = Callable[[Context], Reply]


@dataclass(frozen=True, slots=True)
class Route:
    """A served operation and the credentials it takes."""

    handler: Handler
    auth: RouteAuth


ROUTES: dict[tuple[str, str], Route] = {}


def route(method: str, template: str, auth: RouteAuth = "token") -> Callable[[Handler], Handler]:
    """Register a handler for ``method`` on an OpenAPI path template."""

    def register(handler: Handler) -> Handler:
        ROUTES[(method, template)] = Route(handler, auth)
        return handler

    return register


def paginate(ctx: Context, items: Sequence[Any], status: int = 200) -> Reply:
    """One page of ``items`` with GitHub's ``Link`` header (first/prev/next/last)."""
    per_page = _positive(ctx.query.get("per_page"), DEFAULT_PER_PAGE)
    per_page = min(per_page, MAX_PER_PAGE)  # GitHub silently caps per_page at 100
    page = _positive(ctx.query.get("page"), 1)
    last = max(1, -(-len(items) // per_page))
    chunk = list(items[(page - 1) * per_page : page * per_page])
    links = []
    rels: Mapping[str, int] = {}
    if page > 1:
        rels = {"prev": min(page - 1, last), "first": 1}
    if page < last:
        rels = {**rels, "next": page + 1, "last": last}
    for rel in ("prev", "next", "last", "first"):
        if rel in rels:
            query = {**ctx.query, "per_page": str(per_page), "page": str(rels[rel])}
            links.append(f'<{ctx.url}?{urlencode(query)}>; rel="{rel}"')
    headers = {"link": ", ".join(links)} if links else {}
    return Reply(status, chunk, headers)


def _positive(value: str | None, default: int) -> int:
    if value is None or not value.isdigit() or int(value) < 1:
        return default
    return int(value)
