"""Opting in through the API, and the signed links of emails (confirm, unsubscribe)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from msgspec.structs import replace

from bridge.app import build_runtime, create_app
from bridge.domain import Status
from bridge.duplicates import merge_duplicate
from bridge.notify.email import tokens
from bridge.notify.email.model import CONFIRM_EVENT, request_topic
from bridge.runtime import Runtime
from bridge.settings import Settings
from bridge.stores.sqlite import SQLiteStore
from tests.conftest import CONFIG
from tests.email_support import EMAIL_CONFIG
from tests.fakes import FakeClock, FakeTracker, RecordingQueue, indexed
from tests.voter_tokens import MOBILE_SECRET, mint

ANONYMOUS = CONFIG.replace("public = true", "public = true\nanonymous_votes = true", 1)
ORIGIN = {"Origin": "https://app.acme.example"}


def wired(
    make_settings: Callable[..., Settings], tmp_path: Path, clock: FakeClock, config: str
) -> Runtime:
    settings = make_settings(
        config,
        MOBILE_VOTER_SECRET=MOBILE_SECRET,
        FEATUREBRIDGE_SIGNING_SECRET="opt-in-tests-signing-secret",
    )
    rt = build_runtime(
        settings,
        store=SQLiteStore(tmp_path / "index.db"),
        tracker=FakeTracker(clock),
        queue=RecordingQueue(),
        clock=clock,
    )
    rt.store.upsert_request(indexed(5, "Dark mode"))
    return rt


@pytest.fixture
def rt(make_settings: Callable[..., Settings], tmp_path: Path, clock: FakeClock) -> Runtime:
    return wired(make_settings, tmp_path, clock, ANONYMOUS + EMAIL_CONFIG)


@pytest.fixture
def client(rt: Runtime) -> Iterator[FlaskClient]:
    flask_app = create_app(rt.settings, rt)
    yield flask_app.test_client()
    flask_app.extensions["featurebridge.inline"].shutdown()


def vote(client: FlaskClient, **body: Any) -> Any:
    return client.post("/v1/apps/mobile/requests/5/votes", json=body, headers=ORIGIN)


def confirmations(rt: Runtime) -> list[str]:
    return [d.target for d in rt.store.recent_notifications(limit=50) if d.event == CONFIRM_EVENT]


def token(clock: FakeClock, **claims: Any) -> str:
    return mint(sub="u-1", iat=int(clock().timestamp()), **claims)


def test_a_typed_address_is_confirmed_first_and_asked_once(
    rt: Runtime, client: FlaskClient
) -> None:
    first = vote(client, anonymous_id="browser-one", notify=True, email="Ada@Example.com ")
    assert first.get_json()["notify"] == "confirming"
    again = vote(client, anonymous_id="browser-two", notify=True, email="ada@example.com")
    assert again.get_json()["notify"] == "confirming"
    assert len(confirmations(rt)) == 1
    assert rt.store.followers("mobile", [request_topic(5)]) == []


def test_an_address_from_a_voter_token_is_trusted(
    rt: Runtime, client: FlaskClient, clock: FakeClock
) -> None:
    answer = vote(client, voter_token=token(clock, email="ada@example.com"), notify=True)
    assert answer.get_json()["notify"] == "subscribed"
    claimed = mint(sub="u-2", iat=int(clock().timestamp()), email="b@example.com", notify=True)
    claim = vote(client, voter_token=claimed)
    assert claim.get_json()["notify"] == "subscribed"
    assert confirmations(rt) == []
    followers = rt.store.followers("mobile", [request_topic(5)])
    assert sorted(f.address for f in followers) == ["ada@example.com", "b@example.com"]
    # Unvoting stops the emails about it.
    client.delete(
        "/v1/apps/mobile/requests/5/votes",
        json={"voter_token": token(clock, email="ada@example.com")},
        headers=ORIGIN,
    )
    assert [f.address for f in rt.store.followers("mobile", [request_topic(5)])] == [
        "b@example.com"
    ]


def test_an_opt_in_without_an_address_is_told_so_and_the_vote_counts(
    client: FlaskClient, clock: FakeClock
) -> None:
    answer = vote(client, anonymous_id="browser-one", notify=True)
    assert answer.status_code == 200
    assert answer.get_json()["voted"] is True
    assert answer.get_json()["notify"] == "unavailable"
    assert "notify" not in vote(client, anonymous_id="browser-two").get_json()


@pytest.mark.parametrize(
    "body",
    [
        {"anonymous_id": "browser-one", "notify": "yes"},
        {"anonymous_id": "browser-one", "notify": 1},
        {"anonymous_id": "browser-one", "notify": True, "email": "not an address"},
        {"anonymous_id": "browser-one", "email": None},
    ],
)
def test_bad_opt_ins_are_422(client: FlaskClient, body: dict[str, Any]) -> None:
    assert vote(client, **body).status_code == 422


def test_email_with_a_voter_token_is_422(client: FlaskClient, clock: FakeClock) -> None:
    answer = vote(client, voter_token=token(clock), notify=True, email="ada@example.com")
    assert answer.status_code == 422


def test_a_form_checkbox_opts_in(rt: Runtime, client: FlaskClient) -> None:
    answer = client.post(
        "/v1/apps/mobile/requests/5/votes",
        data={"anonymous_id": "browser-one", "notify": "on", "email": "ada@example.com"},
        headers=ORIGIN,
    )
    assert answer.status_code == 200
    assert answer.get_json()["notify"] == "confirming"
    refused = client.post(
        "/v1/apps/mobile/requests/5/votes",
        data={"anonymous_id": "browser-one", "notify": "maybe"},
        headers=ORIGIN,
    )
    assert refused.status_code == 422


def test_a_submitters_typed_address_is_confirmed_first(rt: Runtime, client: FlaskClient) -> None:
    answer = client.post(
        "/v1/apps/mobile/requests",
        json={"title": "Offline maps", "email": "ada@example.com", "notify": True},
        headers=ORIGIN,
    )
    assert answer.status_code in (201, 202)
    assert len(confirmations(rt)) == 1
    quiet = client.post(
        "/v1/apps/mobile/requests",
        json={"title": "Widgets", "email": "bob@example.com"},
        headers=ORIGIN,
    )
    assert quiet.status_code in (201, 202)
    assert len(confirmations(rt)) == 1


def test_without_a_sender_email_is_off(
    make_settings: Callable[..., Settings], tmp_path: Path, clock: FakeClock
) -> None:
    rt = wired(make_settings, tmp_path, clock, ANONYMOUS)
    assert rt.notifications is None
    flask_app = create_app(rt.settings, rt)
    answer = vote(
        flask_app.test_client(), anonymous_id="browser-one", notify=True, email="a@example.com"
    )
    assert answer.get_json()["notify"] == "unavailable"
    assert rt.store.recent_notifications(limit=10) == []


# ------------------------------------------------------------------ links


def subscribed(rt: Runtime, client: FlaskClient) -> str:
    vote(client, anonymous_id="browser-one", notify=True, email="ada@example.com")
    (target,) = confirmations(rt)
    return target.removeprefix("email:")


def test_confirm_then_unsubscribe_by_their_links(rt: Runtime, client: FlaskClient) -> None:
    subscriber_id = subscribed(rt, client)
    key = rt.signing_key()
    confirm = f"/v1/confirm?token={tokens.sign(key, tokens.CONFIRM, subscriber_id)}"
    page = client.get(confirm)
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    assert "Content-Security-Policy" in page.headers
    assert rt.store.followers("mobile", [request_topic(5)]) == []  # a GET changes nothing
    done = client.post(confirm, headers={"Accept": "text/html"})
    assert done.status_code == 200
    assert "Thank you" in done.get_data(as_text=True)
    assert len(rt.store.followers("mobile", [request_topic(5)])) == 1
    unsubscribe = f"/v1/unsubscribe?token={tokens.sign(key, tokens.UNSUBSCRIBE, subscriber_id)}"
    one_click = client.post(
        unsubscribe,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert one_click.status_code == 200
    assert one_click.get_json() == {"unsubscribed": True}
    assert rt.store.followers("mobile", [request_topic(5)]) == []
    assert client.post(unsubscribe).status_code == 200  # a repeat is fine


@pytest.mark.parametrize("path", ["/v1/unsubscribe", "/v1/confirm"])
def test_forged_tokens_are_400_and_change_nothing(
    rt: Runtime, client: FlaskClient, path: str, log_lines: list[dict[str, Any]]
) -> None:
    subscriber_id = subscribed(rt, client)
    key = rt.signing_key()
    wrong_purpose = tokens.sign(
        key, tokens.CONFIRM if path.endswith("unsubscribe") else tokens.UNSUBSCRIBE, subscriber_id
    )
    other_key = tokens.sign(b"another deployment", tokens.UNSUBSCRIBE, subscriber_id)
    for forged in (wrong_purpose, other_key, subscriber_id, "", "x" * 5000):
        page = client.get(f"{path}?token={forged}")
        assert page.status_code == 400
        assert page.mimetype == "text/html"
        answer = client.post(f"{path}?token={forged}", headers={"Accept": "application/json"})
        assert answer.status_code == 400
        assert answer.get_json()["error"]["code"] == "bad_request"
    assert client.post(path).status_code == 400
    stored = rt.store.get_subscriber(subscriber_id)
    assert stored is not None
    assert (stored.confirmed, stored.unsubscribed) == (False, False)
    logged = repr(log_lines)
    assert wrong_purpose not in logged
    assert other_key.split(".")[1] not in logged


def test_a_duplicates_followers_follow_its_original(
    rt: Runtime, client: FlaskClient, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt.store.upsert_request(indexed(6, "Night theme"))
    vote(client, voter_token=token(clock, email="ada@example.com"), notify=True)
    duplicate = rt.store.get_request("mobile", 5)
    assert duplicate is not None
    rt.store.upsert_request(replace(duplicate, status=Status.DUPLICATE))
    tracker = rt.tracker
    assert isinstance(tracker, FakeTracker)
    monkeypatch.setattr(tracker, "canonical_issue", lambda repo, number: (repo, 6))
    assert merge_duplicate(rt, "mobile", 5) == 6
    assert [f.address for f in rt.store.followers("mobile", [request_topic(6)])] == [
        "ada@example.com"
    ]


def test_a_suppressed_address_is_promised_nothing(
    rt: Runtime, client: FlaskClient, clock: FakeClock
) -> None:
    rt.store.suppress_address("ada@example.com", reason="bounce", now=clock())
    typed = vote(client, anonymous_id="browser-one", notify=True, email="ada@example.com")
    assert typed.get_json()["notify"] == "unavailable"
    trusted = vote(client, voter_token=token(clock, email="ada@example.com"), notify=True)
    assert trusted.get_json()["notify"] == "unavailable"
    assert confirmations(rt) == []
