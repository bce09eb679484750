"""Domain events: milestones, what a change announces, and the bodies receivers get."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from msgspec.structs import replace

from bridge.domain import Status
from bridge.notify.events import (
    change_events,
    created,
    encode,
    milestone_events,
    milestones_between,
    scrub,
)
from bridge.notify.formats import json_request, signature, slack_request, slack_text
from tests.fakes import indexed
from tests.golden_files import assert_golden

GOLDEN = Path(__file__).parent / "golden" / "notify"
NOW = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)


def test_milestones_are_10_25_50_and_on_by_powers_of_ten() -> None:
    assert milestones_between(0, 1000) == [10, 25, 50, 100, 250, 500, 1000]
    assert milestones_between(9, 10) == [10]
    assert milestones_between(10, 24) == []
    assert milestones_between(99, 2600) == [100, 250, 500, 1000, 2500]
    assert milestones_between(30, 20) == []


def test_a_new_request_announces_created_and_the_milestones_it_starts_past() -> None:
    fresh = indexed(7, "Dark mode", votes=12, at=NOW - timedelta(hours=1))
    events = change_events(None, fresh, NOW)
    assert [e.type for e in events] == ["request.created", "vote.milestone"]
    assert events[1].milestone == 10


def test_a_request_catching_up_from_long_ago_announces_nothing() -> None:
    old = indexed(7, "Dark mode", votes=300, at=NOW - timedelta(days=30))
    assert change_events(None, old, NOW) == []


def test_a_status_change_is_named_by_the_state_it_left() -> None:
    before = indexed(7, "Dark mode", votes=3, at=NOW)
    after = replace(before, status=Status.COMPLETED, updated_at=NOW + timedelta(minutes=5))
    seen_by_webhook = change_events(before, after, NOW + timedelta(minutes=5))
    seen_by_sync = change_events(
        before, replace(after, github_thumbs_up=1), NOW + timedelta(hours=1)
    )
    assert [e.type for e in seen_by_webhook] == ["request.status_changed"]
    assert seen_by_webhook[0].id == seen_by_sync[0].id  # one change, one event id
    assert seen_by_webhook[0].previous_status == "open"
    # Back and forth later: a new change, a new id.
    reopened = replace(after, status=Status.OPEN, updated_at=NOW + timedelta(days=1))
    again = replace(reopened, status=Status.COMPLETED, updated_at=NOW + timedelta(days=2))
    assert change_events(reopened, again, NOW)[0].id != seen_by_webhook[0].id
    assert change_events(before, replace(before, title="Darker"), NOW) == []


def test_milestone_event_ids_depend_on_the_request_and_milestone_only() -> None:
    request = indexed(7, "Dark mode", votes=26)
    first = milestone_events(request, 24, NOW)
    later = milestone_events(replace(request, bridge_votes=30), 24, NOW + timedelta(days=3))
    assert [e.milestone for e in first] == [25]
    assert first[0].id == later[0].id


def test_addresses_in_titles_never_reach_an_event() -> None:
    request = indexed(7, "Mail ann.smith@example.com when ready")
    body = encode(created(request, NOW).body("Acme Mobile"))
    assert "@" not in body
    assert "[email]" in body
    assert scrub("a <b@c.io> d") == "a <[email]> d"


def _event_json(kind: str) -> str:
    request = indexed(42, "Dark mode & <themes>", votes=99, at=NOW)
    if kind == "created":
        event = created(request, NOW)
    elif kind == "status":
        done = replace(request, status=Status.IN_PROGRESS, updated_at=NOW + timedelta(hours=1))
        event = change_events(request, done, NOW)[0]
    else:
        event = milestone_events(replace(request, bridge_votes=100), 99, NOW)[0]
    return encode(event.body("Acme Mobile"))


def test_json_bodies_match_their_golden_files() -> None:
    for kind in ("created", "status", "milestone"):
        pretty = json.dumps(json.loads(_event_json(kind)), indent=2, ensure_ascii=False) + "\n"
        assert_golden(GOLDEN / f"{kind}.json", pretty)


def test_slack_messages_match_their_golden_file() -> None:
    lines = [
        slack_text(json.loads(_event_json(kind))) for kind in ("created", "status", "milestone")
    ]
    assert_golden(GOLDEN / "slack.txt", "\n".join(lines) + "\n")
    body, headers = slack_request(_event_json("created"))
    message = json.loads(body)
    assert message["text"].startswith("New feature request for *Acme Mobile*: <https://github.com/")
    assert "&amp; &lt;themes&gt;" in message["text"]  # Slack's control characters escaped
    assert headers["Content-Type"] == "application/json"


def test_a_json_delivery_is_signed_over_timestamp_dot_body() -> None:
    event_json = _event_json("created")
    body, headers = json_request(event_json, secret="s3cret", timestamp=1767355200)
    assert body == event_json.encode()
    expected = hmac.new(b"s3cret", b"1767355200." + body, hashlib.sha256).hexdigest()
    assert headers["X-Featurebridge-Signature"] == f"sha256={expected}"
    assert headers["X-Featurebridge-Timestamp"] == "1767355200"
    assert headers["X-Featurebridge-Event-Id"] == json.loads(body)["id"]
    assert signature("other", 1767355200, body) != headers["X-Featurebridge-Signature"]
