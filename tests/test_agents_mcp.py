"""``featurebridge mcp`` as an agent runs it: a subprocess on stdio, driven by the MCP SDK's
own client, in front of a real ``featurebridge serve`` with the GitHub double and the
Bedrock stand-in behind it. Every answer is checked against the HTTP API's."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp_types import CallToolResult

from bridge.agents.client import without_addresses
from tests.bedrock_standin import BedrockStandIn
from tests.github_double import GitHubDouble
from tests.processes import FEATUREBRIDGE, clean_env, free_port, http, start_serve, wait_for
from tests.voter_tokens import MOBILE_SECRET, mint

OPERATOR_TOKEN = "operator-secret"
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
EMAIL, NAME = "ada@example.com", "Ada Lovelace"
TOOLS = {
    "list_apps",
    "list_requests",
    "get_request",
    "similar_requests",
    "vote_summary",
    "held_submissions",
}

CONFIG = """
[server]
inline_delivery_seconds = 2

[server.rate_limits]
reads_per_minute = 100000
votes_per_hour = 100000

[analysis]
model_id = "us.amazon.nova-micro-v1:0"
region = "us-east-1"
max_tokens = 400

[[apps]]
id = "mobile"
name = "Acme Mobile"
repo = "acme/mobile"
labels = ["feature-request", "app:mobile"]
public = true
anonymous_votes = true
categories = ["feature", "ux"]

[apps.spam]
blocked_words = ["casino"]

[[apps]]
id = "internal"
name = "Acme Internal"
repo = "acme/internal"
labels = ["feature-request", "app:internal"]
public = false
voter_secret_env = "INTERNAL_VOTER_SECRET"
"""

# However loaded the machine, a session that hangs fails instead of hanging the suite.
SESSION_SECONDS = 90
HELD_TITLE = "Casino bonus"
TITLES = ("Dark mode", "Offline sync", "Export to CSV", "Dark theme for the editor")


@dataclass(frozen=True)
class Bridge:
    """A running ``featurebridge serve`` and the directory it runs in."""

    url: str
    home: Path

    def api(self, path: str, headers: dict[str, str] | None = None) -> Any:
        status, body = http("GET", f"{self.url}{path}", headers=headers)
        assert status == 200, body
        return body


@pytest.fixture(scope="module")
def bridge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bridge]:
    home = tmp_path_factory.mktemp("bridge")
    (home / "featurebridge.toml").write_text(CONFIG)
    github = GitHubDouble()
    github.add_token("ghp_mcp", repos=["acme/mobile", "acme/internal"])
    with ExitStack() as stack:
        github_url = stack.enter_context(github.serve())
        bedrock_url = stack.enter_context(BedrockStandIn().serve())
        port = free_port()
        process = start_serve(
            home,
            port,
            GITHUB_API_URL=github_url,
            GITHUB_TOKEN="ghp_mcp",
            FEATUREBRIDGE_ADMIN_TOKEN=OPERATOR_TOKEN,
            INTERNAL_VOTER_SECRET=MOBILE_SECRET,
            AWS_ENDPOINT_URL_BEDROCK_RUNTIME=bedrock_url,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_REGION="us-east-1",
        )
        stack.callback(process.wait, 15)
        stack.callback(process.terminate)
        base = f"http://127.0.0.1:{port}"
        people = {"email": EMAIL, "name": NAME}
        for title in TITLES:
            body = {"title": title, "description": f"Asked for by {EMAIL}.", **people}
            assert http("POST", f"{base}/v1/apps/mobile/requests", body)[0] in (201, 202)
        held = {"title": HELD_TITLE, "description": f"Write to {EMAIL} for the bonus.", **people}
        status, answer = http("POST", f"{base}/v1/apps/mobile/requests", held)
        assert (status, answer["delivery"]) == (202, "held")
        body = {"title": "Single sign-on", **people}
        assert http("POST", f"{base}/v1/apps/internal/requests", body)[0] in (201, 202)
        for voter in ("a1b2c3d4e5f6", "b1b2c3d4e5f6", "c1b2c3d4e5f6"):
            vote = {"anonymous_id": voter}
            assert http("POST", f"{base}/v1/apps/mobile/requests/2/votes", vote)[0] == 200
        assert wait_for(
            lambda: all(
                http("GET", f"{base}/v1/apps/mobile/requests/{number}")[1].get("analysis")
                for number in range(1, len(TITLES) + 1)
            ),
            timeout=SESSION_SECONDS,
        )
        yield Bridge(url=base, home=home)
    assert not github.violations, github.violations


# ------------------------------------------------------------------ driving the server


def server(bridge: Bridge, url: str | None = None, **env: str) -> StdioServerParameters:
    """``featurebridge mcp`` under a shell that records its exit status in ``mcp.rc``."""
    (bridge.home / "mcp.rc").unlink(missing_ok=True)
    command = f'"{FEATUREBRIDGE}" mcp --url "{url or bridge.url}"; echo $? > mcp.rc'
    return StdioServerParameters(
        command="/bin/sh",
        args=["-c", command],
        env=clean_env(bridge.home, **env),
        cwd=str(bridge.home),
    )


def session(parameters: StdioServerParameters, scenario: Callable[[Client], Awaitable[Any]]) -> Any:
    """Run ``scenario`` with a connected client; the server is stopped when it returns."""

    async def run() -> Any:
        with anyio.fail_after(SESSION_SECONDS):
            async with Client(parameters) as client:
                return await scenario(client)

    return anyio.run(run)


def data(result: CallToolResult) -> Any:
    """A successful call's structured result, which its text content repeats."""
    assert not result.is_error, result.content
    [text] = result.content
    assert json.loads(text.text) == result.structured_content
    return result.structured_content


def error_text(result: CallToolResult) -> str:
    """A refused call's message, after the SDK's "Error executing tool NAME: " prefix."""
    assert result.is_error
    text = " ".join(block.text for block in result.content)
    return text.split(": ", 1)[1] if text.startswith("Error executing tool ") else text


def calls(client: Client, *requests: tuple[str, dict[str, Any]]) -> Awaitable[list[CallToolResult]]:
    async def each() -> list[CallToolResult]:
        return [await client.call_tool(name, arguments) for name, arguments in requests]

    return each()


# ------------------------------------------------------------------ the tests


def test_every_tool_is_listed_read_only_with_a_schema_and_a_description(bridge: Bridge) -> None:
    async def scenario(client: Client) -> Any:
        return (await client.list_tools()).tools

    tools = session(server(bridge, FEATUREBRIDGE_ADMIN_TOKEN=OPERATOR_TOKEN), scenario)
    assert {tool.name for tool in tools} == TOOLS
    for tool in tools:
        assert len(tool.description or "") > 40, tool.name
        assert tool.input_schema["type"] == "object"
        assert tool.annotations is not None
        assert tool.annotations.read_only_hint is True
    schemas = {tool.name: tool.input_schema for tool in tools}
    assert schemas["list_requests"]["properties"]["limit"]["maximum"] == 100
    assert schemas["get_request"]["required"] == ["app", "number"]
    assert schemas["similar_requests"]["required"] == ["app", "title"]


def test_each_tool_answers_what_the_http_api_answers(bridge: Bridge) -> None:
    requests = [
        ("list_apps", {}),
        ("list_requests", {"app": "mobile"}),
        ("list_requests", {"app": "mobile", "sort": "new", "limit": 2}),
        ("get_request", {"app": "mobile", "number": 2}),
        ("similar_requests", {"app": "mobile", "title": "dark mode please"}),
        ("list_requests", {"app": "internal", "status": "open"}),
    ]
    results = session(
        server(bridge, FEATUREBRIDGE_ADMIN_TOKEN=OPERATOR_TOKEN),
        lambda client: calls(client, *requests),
    )
    answers = [data(result) for result in results]
    assert answers[0] == bridge.api("/v1/apps", OPERATOR)
    assert [app["id"] for app in answers[0]["items"]] == ["internal", "mobile"]
    assert answers[1] == bridge.api("/v1/apps/mobile/requests", OPERATOR)
    assert answers[1]["items"][0]["number"] == 2  # the most votes first
    second_page = bridge.api(
        f"/v1/apps/mobile/requests?sort=new&limit=2&cursor={answers[2]['next_cursor']}"
    )
    assert len(answers[2]["items"]) == 2
    assert len(second_page["items"]) == 2
    shown = answers[3]
    assert shown == bridge.api("/v1/apps/mobile/requests/2", OPERATOR)
    assert shown["total_votes"] == 4  # the submitter's and three more
    assert shown["analysis"]["model_id"] == "us.amazon.nova-micro-v1:0"
    assert shown["analysis"]["category"] == "feature"
    similar = bridge.api("/v1/apps/mobile/similar?title=dark+mode+please")
    assert answers[4] == similar
    assert answers[4]["items"][0]["title"] == "Dark mode"
    assert answers[5] == bridge.api("/v1/apps/internal/requests?status=open", OPERATOR)
    assert [item["title"] for item in answers[5]["items"]] == ["Single sign-on"]


def test_a_listing_is_paged_by_the_cursor_it_hands_out(bridge: Bridge) -> None:
    async def scenario(client: Client) -> list[int]:
        numbers: list[int] = []
        cursor = None
        while True:
            arguments = {"app": "mobile", "sort": "new", "limit": 1}
            page = data(await client.call_tool("list_requests", {**arguments, "cursor": cursor}))
            numbers += [item["number"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                return numbers

    assert session(server(bridge), scenario) == [4, 3, 2, 1]


def test_the_vote_summary_adds_up_the_export(bridge: Bridge) -> None:
    results = session(
        server(bridge, FEATUREBRIDGE_ADMIN_TOKEN=OPERATOR_TOKEN),
        lambda client: calls(
            client,
            ("vote_summary", {"app": "mobile", "top": 2}),
            ("vote_summary", {"app": "mobile", "since": "2999-01-01"}),
        ),
    )
    summary, none_since = (data(result) for result in results)
    export = bridge.api("/v1/export?app=mobile", OPERATOR)
    assert summary["totals"] == export["totals"]
    assert summary["totals"]["requests"] == len(TITLES)
    assert summary["by_status"] == {"open": len(TITLES)}
    most = sorted(export["requests"], key=lambda row: (-row["total_votes"], row["number"]))[:2]
    assert [row["number"] for row in summary["top_requests"]] == [row["number"] for row in most]
    assert summary["top_requests"][0]["total_votes"] == 4
    assert summary["top_requests"][0]["category"] == "feature"
    trending = bridge.api("/v1/apps/mobile/requests?sort=trending&limit=2")
    movers = [item["number"] for item in trending["items"]]
    assert [row["number"] for row in summary["biggest_movers"]] == movers
    assert none_since["totals"]["requests"] == 0
    assert none_since["top_requests"] == []


def test_an_unknown_app_or_a_bad_argument_is_a_tool_error(bridge: Bridge) -> None:
    requests = [
        ("list_requests", {"app": "nope"}),
        ("get_request", {"app": "mobile", "number": 999}),
        ("list_requests", {"app": "mobile", "limit": 1000}),
        ("list_requests", {"app": "mobile", "sort": "loudest"}),
        ("get_request", {"app": "../export", "number": 1}),
        ("get_request", {"app": "mobile"}),
        ("list_requests", {"app": "mobile", "cursor": "forged"}),
        ("vote_summary", {"app": "mobile", "since": "last tuesday"}),
        ("list_apps", {}),
    ]
    results = session(
        server(bridge, FEATUREBRIDGE_ADMIN_TOKEN=OPERATOR_TOKEN),
        lambda client: calls(client, *requests),
    )
    texts = [error_text(result) for result in results[:-1]]
    assert texts[0] == "not_found: no app 'nope'"
    assert texts[1] == "not_found: no request #999 in app 'mobile'"
    assert "limit" in texts[2]
    assert "100" in texts[2]
    assert "sort" in texts[3]
    assert "app" in texts[4]
    assert "number" in texts[5]
    assert texts[6].startswith("bad_request: ")
    assert texts[7].startswith("bad_request: invalid query parameters (since: ")
    data(results[-1])  # the server goes on answering after every refusal


def test_operator_data_needs_the_operator_token(bridge: Bridge) -> None:
    voter = mint(MOBILE_SECRET, sub="user-1", iat=int(time.time()))
    requests = [
        ("list_apps", {}),
        ("list_requests", {"app": "internal"}),
        ("vote_summary", {"app": "mobile"}),
    ]
    with_voter, public = (
        session(server(bridge, **env), lambda client: calls(client, *requests))
        for env in ({"FEATUREBRIDGE_VOTER_TOKEN": voter}, {})
    )
    assert [app["id"] for app in data(with_voter[0])["items"]] == ["internal", "mobile"]
    assert [item["title"] for item in data(with_voter[1])["items"]] == ["Single sign-on"]
    assert error_text(with_voter[2]).startswith("unauthorized: operator endpoints need")
    assert [app["id"] for app in data(public[0])["items"]] == ["mobile"]
    assert error_text(public[1]) == "not_found: no app 'internal'"
    assert error_text(public[2]).startswith("unauthorized: ")


def test_no_email_or_name_reaches_any_result(bridge: Bridge) -> None:
    requests = [
        ("list_apps", {}),
        *[
            ("list_requests", {"app": app, "sort": s})
            for app in ("mobile", "internal")
            for s in ("top", "new", "trending")
        ],
        *[("get_request", {"app": "mobile", "number": n}) for n in range(1, len(TITLES) + 1)],
        ("get_request", {"app": "internal", "number": 1}),
        ("similar_requests", {"app": "mobile", "title": "Dark", "description": EMAIL}),
        ("vote_summary", {"app": "mobile"}),
        ("vote_summary", {"app": "internal"}),
        ("held_submissions", {"app": "mobile"}),
        ("held_submissions", {"app": "mobile", "state": "rejected"}),
    ]
    results = session(
        server(bridge, FEATUREBRIDGE_ADMIN_TOKEN=OPERATOR_TOKEN),
        lambda client: calls(client, *requests),
    )
    for result in results:
        text = json.dumps(data(result))
        for private in ("@", "example.com", NAME, "Lovelace"):
            assert private not in text, text


def test_the_server_exits_cleanly_when_the_client_closes(bridge: Bridge) -> None:
    async def scenario(client: Client) -> Any:
        return data(await client.call_tool("list_apps", {}))

    session(server(bridge), scenario)
    assert (bridge.home / "mcp.rc").read_text().strip() == "0"


def test_a_bridge_that_cannot_be_reached_is_a_tool_error(bridge: Bridge) -> None:
    gone = f"http://127.0.0.1:{free_port()}"

    async def scenario(client: Client) -> Any:
        return await client.call_tool("list_apps", {})

    text = error_text(session(server(bridge, url=gone), scenario))
    assert text.startswith(f"the bridge at {gone} cannot be reached")
    assert (bridge.home / "mcp.rc").read_text().strip() == "0"


def test_held_submissions_are_the_operators_review_queue_without_addresses(
    bridge: Bridge,
) -> None:
    voter = mint(MOBILE_SECRET, sub="user-1", iat=int(time.time()))
    requests = [
        ("held_submissions", {"app": "mobile"}),
        ("held_submissions", {"app": "mobile", "limit": 1}),
        ("held_submissions", {"app": "mobile", "state": "rejected"}),
        ("held_submissions", {"app": "mobile", "state": "approved"}),
        ("held_submissions", {"app": "nope"}),
    ]
    results = session(
        server(bridge, FEATUREBRIDGE_ADMIN_TOKEN=OPERATOR_TOKEN),
        lambda client: calls(client, *requests),
    )
    held, first, rejected = (data(result) for result in results[:3])
    queue = bridge.api("/v1/apps/mobile/moderation", OPERATOR)
    assert held == without_addresses(queue)
    assert [item["title"] for item in held["items"]] == [HELD_TITLE]
    [item] = held["items"]
    assert item["signals"] == ["blocked_word"]
    assert item["description"] == "Write to [email] for the bonus."
    assert EMAIL in queue["items"][0]["description"]  # the API shows what the submitter typed
    assert first["items"] == held["items"]
    assert first["next_cursor"] is None
    assert rejected == {"items": [], "next_cursor": None}
    assert "state" in error_text(results[3])
    assert error_text(results[4]) == "not_found: no app 'nope'"

    async def as_voter(client: Client) -> CallToolResult:
        return await client.call_tool("held_submissions", {"app": "mobile"})

    refused = session(server(bridge, FEATUREBRIDGE_VOTER_TOKEN=voter), as_voter)
    assert error_text(refused).startswith("unauthorized: operator endpoints need")
