"""Email end to end: the API's opt-ins, SES v2 on moto's server over HTTP, a webhook and a sync."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from msgspec.structs import replace

from bridge.app import build_runtime, create_app
from bridge.runtime import Runtime
from bridge.settings import Settings
from bridge.stores.sqlite import SQLiteStore
from bridge.sync import sync_all
from github_app.webhooks import sign
from tests.email_support import EMAIL_CONFIG, SENDER, link, parts, sent_to, verify_sender
from tests.fakes import FakeClock, FakeTracker, RecordingQueue
from tests.notify_support import settle
from tests.voter_tokens import MOBILE_SECRET, mint
from tests.webhook_payloads import issue_payload

WEBHOOK_SECRET = "email-tests-webhook-secret"
CONFIG = (
    """
[server]
public_url = "https://feedback.example.com"

[[apps]]
id = "mobile"
name = "Acme Mobile"
repo = "acme/mobile"
labels = ["feature-request", "app:mobile"]
allowed_origins = ["https://app.acme.example"]
public = true
anonymous_votes = true
voter_secret_env = "MOBILE_VOTER_SECRET"
"""
    + EMAIL_CONFIG
)


def unique(name: str) -> str:
    """An address no other test of the session sends to (moto keeps every message)."""
    return f"{name}-{uuid.uuid4().hex[:8]}@example.com"


@pytest.fixture
def clock() -> FakeClock:
    # Real time: webhooks carry GitHub's updated_at, which the index compares.
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def rt(
    make_settings: Callable[..., Settings],
    tmp_path: Path,
    clock: FakeClock,
    moto_endpoint: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Runtime:
    verify_sender(moto_endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SESV2", moto_endpoint)
    settings = make_settings(
        CONFIG,
        MOBILE_VOTER_SECRET=MOBILE_SECRET,
        GITHUB_WEBHOOK_SECRET=WEBHOOK_SECRET,
        FEATUREBRIDGE_SIGNING_SECRET="email-tests-signing-secret",
    )
    return build_runtime(
        settings,
        store=SQLiteStore(tmp_path / "index.db"),
        tracker=FakeTracker(clock),
        queue=RecordingQueue(),
        clock=clock,
    )


@pytest.fixture
def client(rt: Runtime) -> Iterator[FlaskClient]:
    flask_app = create_app(rt.settings, rt)
    yield flask_app.test_client()
    flask_app.extensions["featurebridge.inline"].shutdown()


def token(clock: FakeClock, sub: str, **claims: object) -> str:
    return mint(sub=sub, iat=int(clock().timestamp()), aud="mobile", **claims)


def vote(client: FlaskClient, number: int, **body: object) -> dict[str, object]:
    answer = client.post(f"/v1/apps/mobile/requests/{number}/votes", json=body)
    assert answer.status_code == 200, answer.get_json()
    result = answer.get_json()
    assert isinstance(result, dict)
    return result


def close_by_webhook(client: FlaskClient, rt: Runtime, number: int) -> None:
    payload = issue_payload("closed", number=number, state="closed", state_reason="completed")
    body = json.dumps(payload).encode()
    answer = client.post(
        "/github/webhooks",
        data=body,
        content_type="application/json",
        headers={
            "X-GitHub-Event": "issues",
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": sign(body, WEBHOOK_SECRET),
        },
    )
    assert answer.status_code in (200, 202), answer.get_json()
    # GitHub's side as a later sync reads it.
    tracker = rt.tracker
    assert isinstance(tracker, FakeTracker)
    issue = tracker.issues["acme/mobile"][0]
    updated = datetime.strptime(payload["issue"]["updated_at"], "%Y-%m-%dT%H:%M:%SZ")
    tracker.issues["acme/mobile"][0] = replace(
        issue,
        state="closed",
        state_reason="completed",
        updated_at=updated.replace(tzinfo=UTC),
        closed_at=updated.replace(tzinfo=UTC),
    )


def test_opted_in_people_get_one_email_per_change_and_nobody_else_gets_any(
    rt: Runtime, client: FlaskClient, clock: FakeClock, moto_endpoint: str
) -> None:
    submitter, voter, typed, unconfirmed, silent = (
        unique(name) for name in ("ada", "bob", "cy", "dee", "eve")
    )
    answer = client.post(
        "/v1/apps/mobile/requests",
        json={
            "title": "Dark mode",
            "notify": True,
            "voter_token": token(clock, "u-ada", email=submitter),
        },
        headers={"Origin": "https://app.acme.example"},
    )
    assert answer.status_code == 201, answer.get_json()
    number = answer.get_json()["number"]
    # A voter whose token says notify: true, one who typed an address and confirms it,
    # one who typed one and never confirms, one who did not ask.
    assert (
        vote(client, number, voter_token=token(clock, "u-bob", email=voter, notify=True))["notify"]
        == "subscribed"
    )
    assert (
        vote(client, number, anonymous_id="browser-cy-1", notify=True, email=typed)["notify"]
        == "confirming"
    )
    vote(client, number, anonymous_id="browser-dee-1", notify=True, email=unconfirmed)
    assert "notify" not in vote(client, number, voter_token=token(clock, "u-eve", email=silent))
    settle(rt, clock)
    (confirmation,) = sent_to(moto_endpoint, typed)
    assert len(sent_to(moto_endpoint, unconfirmed)) == 1
    assert sent_to(moto_endpoint, submitter) == []
    confirm_path = link(parts(confirmation)["text/plain"], "/v1/confirm")
    assert client.get(confirm_path).status_code == 200
    assert client.post(confirm_path, headers={"Accept": "application/json"}).get_json() == {
        "confirmed": True
    }

    close_by_webhook(client, rt, number)
    sync_all(rt)
    settle(rt, clock)

    for address in (submitter, voter, typed):
        messages = [m for m in sent_to(moto_endpoint, address) if "/v1/confirm" not in str(m)]
        assert len(messages) == 1, address
        (message,) = messages
        assert message["From"] == SENDER
        assert message["To"] == address
        assert message["Subject"] == "Dark mode: completed"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message["List-Unsubscribe"].startswith(
            "<https://feedback.example.com/v1/unsubscribe?token="
        )
        bodies = parts(message)
        assert set(bodies) == {"text/plain", "text/html"}
        assert "Dark mode" in bodies["text/plain"]
        assert "Completed" in bodies["text/plain"]
        assert f"https://github.com/acme/mobile/issues/{number}" in bodies["text/plain"]
        assert "Completed" in bodies["text/html"]
        assert f"https://github.com/acme/mobile/issues/{number}" in bodies["text/html"]
    assert len(sent_to(moto_endpoint, unconfirmed)) == 1  # the confirmation only
    assert sent_to(moto_endpoint, silent) == []


def test_the_unsubscribe_link_of_an_email_stops_the_next_one(
    rt: Runtime, client: FlaskClient, clock: FakeClock, moto_endpoint: str
) -> None:
    address = unique("una")
    answer = client.post(
        "/v1/apps/mobile/requests",
        json={
            "title": "Offline maps",
            "notify": True,
            "voter_token": token(clock, "u", email=address),
        },
        headers={"Origin": "https://app.acme.example"},
    )
    number = answer.get_json()["number"]
    close_by_webhook(client, rt, number)
    settle(rt, clock)
    (first,) = sent_to(moto_endpoint, address)
    unsubscribe = link(parts(first)["text/plain"], "/v1/unsubscribe")
    assert first["List-Unsubscribe"] == f"<https://feedback.example.com{unsubscribe}>"
    page = client.get(unsubscribe)
    assert page.status_code == 200
    assert "Unsubscribe" in page.get_data(as_text=True)
    one_click = client.post(
        unsubscribe,
        data={"List-Unsubscribe": "One-Click"},
        content_type="multipart/form-data",
    )
    assert one_click.status_code == 200
    assert one_click.get_json() == {"unsubscribed": True}
    # Reopened: a new change, and no email for it.
    clock.advance(60)
    reopened = client.post(
        "/github/webhooks",
        data=(body := json.dumps(issue_payload("reopened", number=number)).encode()),
        content_type="application/json",
        headers={
            "X-GitHub-Event": "issues",
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": sign(body, WEBHOOK_SECRET),
        },
    )
    assert reopened.status_code in (200, 202)
    settle(rt, clock)
    assert len(sent_to(moto_endpoint, address)) == 1
    emails = [d for d in rt.store.recent_notifications(limit=50) if d.destination == "email"]
    assert [d.state for d in emails] == ["delivered"]
