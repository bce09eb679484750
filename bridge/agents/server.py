"""The MCP server of ``featurebridge mcp``: read-only tools over a bridge's HTTP API.

Every tool is one or a few GET requests to the API, so an agent sees exactly what
the API shows the token it was given (and nothing shaped like an email address);
a refusal comes back as a tool error carrying the API's own message.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any, Literal, cast

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import Field

from bridge.agents.client import ApiCallError, BridgeClient, Params, without_addresses
from bridge.agents.summary import VoteSummary
from bridge.domain import SortOrder, Status

# Rows per export page while a vote summary is folded (the export allows up to 10,000).
EXPORT_PAGE_ROWS = 1_000

AppId = Annotated[
    str,
    Field(pattern=r"^[a-z0-9-]{1,40}$", description="the app's id, as list_apps gives it"),
]
Number = Annotated[int, Field(ge=1, description="the request's GitHub issue number")]
Cursor = Annotated[
    str | None,
    Field(max_length=2048, description="next_cursor of the previous page; omit for the first"),
]

INSTRUCTIONS = (
    "Feature Bridge collects feature requests for several apps as GitHub issues, with votes. "
    "Start with list_apps; every other tool takes one of its ids as `app`. Listings are paged: "
    "pass next_cursor back as `cursor` until it is null. Nothing here changes anything."
)
READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)


def build_server(client: BridgeClient, *, version: str = "") -> MCPServer:
    """The MCP server whose tools read the bridge ``client`` talks to."""
    server: MCPServer = MCPServer(
        name="featurebridge", instructions=INSTRUCTIONS, version=version, log_level="WARNING"
    )

    def get(*segments: str | int, params: Params | None = None) -> dict[str, Any]:
        try:
            return cast(dict[str, Any], without_addresses(client.get(*segments, params=params)))
        except ApiCallError as error:
            raise ToolError(str(error)) from None

    @server.tool(annotations=READ_ONLY)
    def list_apps() -> dict[str, Any]:
        """The apps whose feature requests you may read: `items` of {id, name, repo, public}."""
        return get("v1", "apps")

    @server.tool(annotations=READ_ONLY)
    def list_requests(
        app: AppId,
        status: Status | None = None,
        sort: SortOrder = SortOrder.TOP,
        limit: Annotated[int, Field(ge=1, le=100)] = 20,
        cursor: Cursor = None,
    ) -> dict[str, Any]:
        """A page of an app's feature requests: `items` (number, title, status, url, labels,
        votes: github_thumbs_up + bridge_votes = total_votes, dates) and `next_cursor`.
        sort: top (most votes), new, trending (recent votes, 3-day half-life)."""
        params: Params = {"status": status, "sort": sort, "limit": limit, "cursor": cursor}
        return get("v1", "apps", app, "requests", params=params)

    @server.tool(annotations=READ_ONLY)
    def get_request(app: AppId, number: Number) -> dict[str, Any]:
        """One feature request with its votes and, when it has been analysed, its AI
        `analysis` (summary, category, priority 1-10 and why, complexity, sentiment,
        business value, likely duplicates)."""
        return get("v1", "apps", app, "requests", number)

    @server.tool(annotations=READ_ONLY)
    def similar_requests(
        app: AppId,
        title: Annotated[str, Field(min_length=1, max_length=256, description="a draft title")],
        description: Annotated[str, Field(max_length=2000)] = "",
        limit: Annotated[int, Field(ge=1, le=10)] = 5,
    ) -> dict[str, Any]:
        """An app's existing requests most like a draft, best first: `items` of {number,
        title, status, url, total_votes, score 0-1}. Use it before suggesting a new one."""
        params: Params = {"title": title, "description": description, "limit": limit}
        return get("v1", "apps", app, "similar", params=params)

    @server.tool(annotations=READ_ONLY)
    def vote_summary(
        app: AppId,
        since: Annotated[
            str | None,
            Field(
                max_length=40,
                description="ISO 8601 date or time: only requests updated at or after it",
            ),
        ] = None,
        top: Annotated[int, Field(ge=1, le=50)] = 10,
    ) -> dict[str, Any]:
        """An app's votes from the export (needs the operator token): `totals` (requests,
        github_thumbs_up, bridge_votes, total_votes), `by_status`, `top_requests` (most
        votes) and `biggest_movers` (most recent vote activity: the trending order)."""
        summary = VoteSummary(top=top)
        cursor: str | None = None
        while True:
            params: Params = {
                "app": app,
                "format": "json",
                "since": since,
                "limit": EXPORT_PAGE_ROWS,
                "cursor": cursor,
            }
            page = get("v1", "export", params=params)
            summary.add_page(page)
            cursor = page["next_cursor"]
            if cursor is None:
                break
        trending = get("v1", "apps", app, "requests", params={"sort": "trending", "limit": top})
        return summary.to_json(movers=trending["items"])

    @server.tool(annotations=READ_ONLY)
    def held_submissions(
        app: AppId,
        state: Literal["held", "rejected"] = "held",
        limit: Annotated[int, Field(ge=1, le=100)] = 20,
        cursor: Cursor = None,
    ) -> dict[str, Any]:
        """Submissions moderation keeps off GitHub until an operator approves them (needs the
        operator token), oldest first: `items` of {id, app, state, source, title, description,
        created_at, signals (the spam signals that held it), decisions} and `next_cursor`."""
        params: Params = {"state": state, "limit": limit, "cursor": cursor}
        return get("v1", "apps", app, "moderation", params=params)

    return server


def run_mcp(url: str, env: dict[str, str], *, version: str = "") -> int:
    """Serve MCP on stdin/stdout until the client closes it; 0 then (2 for a bad URL)."""
    try:
        client = BridgeClient.from_env(url, env)
    except ValueError as error:
        print(f"featurebridge mcp: {error}", file=sys.stderr)
        return 2
    build_server(client, version=version).run("stdio")
    return 0
