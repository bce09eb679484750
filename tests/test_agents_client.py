"""The pieces of ``featurebridge mcp`` that need no server: refusals, scrubbing, summaries."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bridge.agents.client import BridgeClient, _refusal, without_addresses
from bridge.agents.summary import VoteSummary
from tests.processes import FEATUREBRIDGE, clean_env


def test_a_refusal_is_told_in_the_apis_own_words() -> None:
    body = b'{"error": {"code": "not_found", "message": "no app \'x\'"}}'
    assert _refusal(404, body) == "not_found: no app 'x'"
    fields = b'{"error": {"code": "bad_request", "message": "bad", "fields": {"limit": "<= 100"}}}'
    assert _refusal(400, fields) == "bad_request: bad (limit: <= 100)"


@pytest.mark.parametrize("body", [b"<html>Bad gateway</html>", b'{"error": "x"}', b"[]"])
def test_an_answer_without_the_envelope_is_told_by_its_status(body: bytes) -> None:
    assert _refusal(502, body) == "the bridge answered HTTP 502"


def test_nothing_shaped_like_an_address_leaves() -> None:
    answer = {"items": [{"title": "Mail ada@example.com back", "n": 1, "labels": ["x@y.io"]}]}
    assert without_addresses(answer) == {
        "items": [{"title": "Mail [email] back", "n": 1, "labels": ["[email]"]}]
    }


@pytest.mark.parametrize("url", ["ftp://bridge", "file:///etc/passwd", "bridge:8000", "http://"])
def test_only_http_urls_are_taken(url: str) -> None:
    with pytest.raises(ValueError, match="--url must be an http"):
        BridgeClient.from_env(url, {})


def test_tokens_come_from_the_environment() -> None:
    env = {"FEATUREBRIDGE_ADMIN_TOKEN": "op", "FEATUREBRIDGE_VOTER_TOKEN": ""}
    client = BridgeClient.from_env("https://feedback.example.com/", env)
    assert client.url == "https://feedback.example.com"
    assert client.admin_token == "op"
    assert client.voter_token is None


def test_the_command_refuses_a_bad_url_with_exit_2(tmp_path: Path) -> None:
    run = subprocess.run(
        [str(FEATUREBRIDGE), "mcp", "--url", "ftp://bridge"],
        env=clean_env(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )
    assert run.returncode == 2
    assert "--url must be an http:// or https:// URL" in run.stderr
    assert run.stdout == ""


def row(number: int, votes: int, status: str = "open") -> dict[str, object]:
    return {
        "app": "mobile",
        "number": number,
        "title": f"Request {number}",
        "status": status,
        "url": f"https://github.com/acme/mobile/issues/{number}",
        "labels": [],
        "github_thumbs_up": 0,
        "bridge_votes": votes,
        "total_votes": votes,
        "weighted_votes": votes,
        "unique_voters": votes,
        "created_at": "2026-11-25T12:00:00Z",
        "updated_at": "2026-11-25T12:00:00Z",
        "closed_at": None,
        "category": None,
        "priority": None,
    }


def page(*rows: dict[str, object]) -> dict[str, object]:
    votes = sum(int(r["total_votes"]) for r in rows)  # type: ignore[call-overload]
    totals = {"requests": len(rows), "github_thumbs_up": 0, "bridge_votes": votes}
    return {"requests": list(rows), "totals": {**totals, "total_votes": votes}}


def test_a_summary_keeps_the_most_voted_across_pages_older_first_among_equals() -> None:
    summary = VoteSummary(top=3)
    summary.add_page(page(row(1, 5), row(2, 9), row(3, 1, "planned")))
    summary.add_page(page(row(4, 9), row(5, 5, "completed"), row(6, 0)))
    folded = summary.to_json(movers=[{"number": 6, "title": "Request 6", "total_votes": 0}])
    assert [r["number"] for r in folded["top_requests"]] == [2, 4, 1]
    assert folded["totals"] == {
        "requests": 6,
        "github_thumbs_up": 0,
        "bridge_votes": 29,
        "total_votes": 29,
    }
    assert folded["by_status"] == {"completed": 1, "open": 4, "planned": 1}
    assert folded["biggest_movers"] == [{"number": 6, "title": "Request 6", "total_votes": 0}]
    assert "app" not in folded["top_requests"][0]


def test_an_empty_export_sums_to_zero() -> None:
    summary = VoteSummary(top=5)
    summary.add_page(page())
    assert summary.to_json(movers=[])["totals"] == {
        "requests": 0,
        "github_thumbs_up": 0,
        "bridge_votes": 0,
        "total_votes": 0,
    }
