"""Moderation over HTTP: held submissions never reach GitHub until approved (SPEC §10)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bridge.app import build_runtime, create_app
from bridge.jobs import sweep_outbox
from bridge.moderation import form_token
from bridge.runtime import Runtime
from bridge.settings import Settings
from bridge.stores.sqlite import SQLiteStore
from github_app.client import GitHubIssueTracker
from tests.conftest import error_code
from tests.fakes import FakeClock, RecordingQueue
from tests.github_double import GitHubDouble
from tests.voter_tokens import MOBILE_SECRET, mint

CONFIG = """
[server]
public_url = "https://feedback.example.com"
inline_delivery_seconds = 2

[[apps]]
id = "mobile"
name = "Acme Mobile"
repo = "acme/mobile"
labels = ["feature-request", "app:mobile"]
allowed_origins = ["https://app.acme.example"]
voter_secret_env = "MOBILE_VOTER_SECRET"

[apps.spam]
blocked_words = ["casino"]

[[apps]]
id = "internal"
name = "Acme Internal"
repo = "acme/internal"
labels = ["feature-request", "app:internal"]
moderation = "all"
"""
URL = "/v1/apps/mobile/requests"
WIDGET = {"Origin": "https://app.acme.example"}
OPERATOR = {"Authorization": "Bearer operator-secret"}
PERSON = {"email": "ada@example.com", "name": "Ada Lovelace"}


@pytest.fixture
def clock() -> FakeClock:  # type: ignore[override]
    # The double stamps issues with the wall clock; the bridge's clock starts there too.
    from bridge.timeutil import utcnow

    return FakeClock(utcnow())


@pytest.fixture
def runtime(
    make_settings: Callable[..., Settings],
    tmp_path: Path,
    github_tracker: GitHubIssueTracker,
    clock: FakeClock,
) -> Runtime:  # type: ignore[override]
    return build_runtime(
        make_settings(CONFIG, MOBILE_VOTER_SECRET=MOBILE_SECRET),
        store=SQLiteStore(tmp_path / "moderation.db"),
        tracker=github_tracker,
        queue=RecordingQueue(),
        clock=clock,
    )


@pytest.fixture
def app(runtime: Runtime) -> Iterator[Flask]:  # type: ignore[override]
    flask_app = create_app(runtime.settings, runtime)
    yield flask_app
    flask_app.extensions["featurebridge.inline"].shutdown()


def creates(double: GitHubDouble, *, expected: int = 0) -> int:
    """Issues created; waits (up to 10 s) for ``expected`` of them, since an inline delivery
    that outlasts inline_delivery_seconds on a busy machine finishes after the 202."""
    from tests.processes import wait_for

    def count() -> int:
        return sum(1 for c in double.calls if c.method == "POST" and c.path.endswith("/issues"))

    wait_for(lambda: count() >= expected, timeout=10)
    return count()


def sent(response: Any) -> bool:
    """On its way to GitHub, not held: filed within the request, or queued when the double
    (a busy machine) takes longer than inline_delivery_seconds."""
    answer = response.get_json()
    return (response.status_code, answer["delivery"]) in ((201, "delivered"), (202, "queued"))


def rendered(client: FlaskClient, clock: FakeClock, *, wait: float = 5) -> str:
    """A form token as the widget gets it, then ``wait`` seconds of a person typing."""
    response = client.get("/v1/apps/mobile/form-token", headers=WIDGET)
    assert response.status_code == 200
    clock.advance(wait)
    return str(response.get_json()["form_token"])


def widget_submit(client: FlaskClient, **body: Any) -> Any:
    return client.post(URL, json={"title": "Dark mode", **body}, headers=WIDGET)


def held_submit(client: FlaskClient, **body: Any) -> Any:
    """A widget's post that trips the honeypot: held for review."""
    return widget_submit(client, website="https://bot.example", **body)


def queue(client: FlaskClient, app: str = "mobile", state: str = "held") -> list[dict[str, Any]]:
    response = client.get(f"/v1/apps/{app}/moderation?state={state}", headers=OPERATOR)
    assert response.status_code == 200
    return list(response.get_json()["items"])


def test_a_person_at_a_persons_pace_is_delivered(
    client: FlaskClient, clock: FakeClock, github_double: GitHubDouble
) -> None:
    response = widget_submit(client, form_token=rendered(client, clock))
    assert sent(response)
    assert creates(github_double, expected=1) == 1


@pytest.mark.parametrize(
    ("body", "signal"),
    [
        ({"website": "http://bot.example"}, "honeypot"),
        ({"form_token": "v1.1.00000000000000000000000000000000"}, "bad_render_time"),
    ],
)
def test_a_honeypot_or_a_forged_render_time_holds_the_widgets_submission(
    client: FlaskClient,
    clock: FakeClock,
    runtime: Runtime,
    github_double: GitHubDouble,
    body: dict[str, str],
    signal: str,
) -> None:
    if signal == "honeypot":
        body = {**body, "form_token": rendered(client, clock)}
    response = widget_submit(client, **body)
    assert response.status_code == 202
    answer = response.get_json()
    assert answer["delivery"] == "held"
    assert answer["status"] == "open"
    assert [item["signals"] for item in queue(client)] == [[signal]]
    clock.advance(3600)
    sweep_outbox(runtime)
    assert creates(github_double) == 0
    assert runtime.queue.jobs == []  # type: ignore[attr-defined]


def test_a_browser_post_without_a_render_token_is_not_held(
    client: FlaskClient, github_double: GitHubDouble
) -> None:
    # A host app's own page calling the API from its origin sends no token.
    assert sent(widget_submit(client))
    assert creates(github_double, expected=1) == 1


def test_too_fast_is_held_and_a_voter_token_skips_the_browser_signals(
    client: FlaskClient, clock: FakeClock, github_double: GitHubDouble
) -> None:
    held = widget_submit(client, form_token=rendered(client, clock, wait=1))
    assert held.get_json()["delivery"] == "held"
    assert queue(client)[0]["signals"] == ["too_fast"]
    token = mint(sub="user-1", exp=int(clock().timestamp()) + 600)
    signed_in = widget_submit(client, title="Offline mode", voter_token=token, website="x")
    assert sent(signed_in)
    assert creates(github_double, expected=1) == 1


def test_content_signals_hold_any_channel(
    client: FlaskClient, clock: FakeClock, github_double: GitHubDouble
) -> None:
    links = " ".join(f"https://x{n}.example" for n in range(4))
    assert client.post(URL, json={"title": "Win at the CASINO"}).status_code == 202
    clock.advance(1)
    assert client.post(URL, json={"title": "Links", "description": links}).status_code == 202
    signals = [item["signals"] for item in queue(client)]
    assert signals == [["blocked_word"], ["links"]]
    assert creates(github_double) == 0


def test_the_same_text_again_from_one_client_within_a_day_is_held(
    client: FlaskClient, clock: FakeClock, github_double: GitHubDouble
) -> None:
    body = {"title": "Export to PDF", "description": "As a file"}
    assert sent(client.post(URL, json=body))
    again = client.post(URL, json=body)
    assert again.get_json()["delivery"] == "held"
    assert queue(client)[0]["signals"] == ["repeat"]
    elsewhere = client.post(URL, json=body, environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert sent(elsewhere)
    clock.advance(25 * 3600)
    assert sent(client.post(URL, json=body))
    assert creates(github_double, expected=3) == 3


def test_moderation_all_holds_everything(client: FlaskClient, github_double: GitHubDouble) -> None:
    response = client.post("/v1/apps/internal/requests", json={"title": "Fine request"})
    assert response.get_json()["delivery"] == "held"
    assert queue(client, "internal")[0]["signals"] == []
    assert creates(github_double) == 0


def test_the_queue_shows_content_but_never_the_person(client: FlaskClient) -> None:
    held_submit(client, description="Night theme", **PERSON)
    response = client.get("/v1/apps/mobile/moderation", headers=OPERATOR)
    text = response.get_data(as_text=True)
    assert "ada@example.com" not in text
    assert "Ada Lovelace" not in text
    (item,) = response.get_json()["items"]
    assert item["title"] == "Dark mode"
    assert item["description"] == "Night theme"
    assert item["state"] == "held"
    assert item["source"] == "widget"
    assert item["decisions"] == []


def test_the_queue_is_for_operators_only(client: FlaskClient) -> None:
    assert client.get("/v1/apps/mobile/moderation").status_code == 401
    assert client.get("/v1/apps/mobile/moderation", headers=OPERATOR).status_code == 200
    assert client.get("/v1/apps/nope/moderation", headers=OPERATOR).status_code == 404
    bad = client.get("/v1/apps/mobile/moderation?state=dead", headers=OPERATOR)
    assert bad.status_code == 400
    assert "state" in bad.get_json()["error"]["fields"]


def test_the_queue_pages_oldest_first(client: FlaskClient, clock: FakeClock) -> None:
    for n in range(3):
        held_submit(client, title=f"Held {n}")
        clock.advance(1)
    first = client.get("/v1/apps/mobile/moderation?limit=2", headers=OPERATOR).get_json()
    assert [i["title"] for i in first["items"]] == ["Held 0", "Held 1"]
    rest = client.get(
        f"/v1/apps/mobile/moderation?limit=2&cursor={first['next_cursor']}", headers=OPERATOR
    ).get_json()
    assert [i["title"] for i in rest["items"]] == ["Held 2"]
    assert rest["next_cursor"] is None
    other = client.get(
        f"/v1/apps/mobile/moderation?state=rejected&cursor={first['next_cursor']}",
        headers=OPERATOR,
    )
    assert error_code(other) == "bad_request"


def test_approve_delivers_exactly_one_issue(
    client: FlaskClient, runtime: Runtime, clock: FakeClock, github_double: GitHubDouble
) -> None:
    held_id = held_submit(client).get_json()["id"]
    url = f"/v1/apps/mobile/moderation/{held_id}/approve"
    approved = client.post(url, json={"reason": "a real person"}, headers=OPERATOR)
    assert approved.status_code == 200
    body = approved.get_json()
    assert body["state"] == "approved"
    assert [(d["action"], d["by"], d["reason"]) for d in body["decisions"]] == [
        ("approve", "api", "a real person")
    ]
    assert client.post(url, headers=OPERATOR).status_code == 200  # a repeat, no body
    sweep_outbox(runtime)
    clock.advance(60)
    sweep_outbox(runtime)
    assert creates(github_double, expected=1) == 1
    stored = runtime.store.get_submission(held_id)
    assert stored is not None
    assert stored.number is not None
    assert len(stored.decisions) == 1
    assert queue(client) == []


def test_reject_keeps_it_marked_and_sends_nothing(
    client: FlaskClient, runtime: Runtime, clock: FakeClock, github_double: GitHubDouble
) -> None:
    held_id = held_submit(client).get_json()["id"]
    url = f"/v1/apps/mobile/moderation/{held_id}/reject"
    assert client.post(url, headers=OPERATOR).status_code == 200
    assert client.post(url, headers=OPERATOR).status_code == 200
    clock.advance(3600)
    sweep_outbox(runtime)
    assert creates(github_double) == 0
    (item,) = queue(client, state="rejected")
    assert item["id"] == held_id
    assert item["state"] == "rejected"
    assert len(item["decisions"]) == 1
    assert queue(client) == []


def test_decisions_refuse_what_cannot_be_reviewed(client: FlaskClient) -> None:
    delivered_id = client.post(URL, json={"title": "Plain"}).get_json()["id"]
    held_id = held_submit(client).get_json()["id"]
    base = "/v1/apps/mobile/moderation"
    assert error_code(client.post(f"{base}/{delivered_id}/reject", headers=OPERATOR)) == "conflict"
    assert client.post(f"{base}/{held_id}/approve").status_code == 401
    assert client.post(f"{base}/{'0' * 32}/approve", headers=OPERATOR).status_code == 404
    assert client.post(f"{base}/not-an-id/approve", headers=OPERATOR).status_code == 404
    other_app = f"/v1/apps/internal/moderation/{held_id}/approve"
    assert client.post(other_app, headers=OPERATOR).status_code == 404
    too_long = client.post(f"{base}/{held_id}/reject", json={"reason": "x" * 501}, headers=OPERATOR)
    assert error_code(too_long) == "validation_failed"
    typed = client.post(
        f"{base}/{held_id}/reject",
        data="reason=x",
        headers=OPERATOR,
        content_type="application/x-www-form-urlencoded",
    )
    assert typed.status_code == 415
    assert queue(client)[0]["id"] == held_id  # refused decisions changed nothing


def test_form_tokens_are_never_cached_and_answer_the_widgets_origin(client: FlaskClient) -> None:
    response = client.get("/v1/apps/mobile/form-token", headers=WIDGET)
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Access-Control-Allow-Origin"] == "https://app.acme.example"
    assert client.get("/v1/apps/nope/form-token").status_code == 404


def test_the_hosted_form_carries_a_render_time(
    client: FlaskClient, runtime: Runtime, clock: FakeClock
) -> None:
    page = client.get("/apps/mobile/form").get_data(as_text=True)
    token = page.split('data-form-token="', 1)[1].split('"', 1)[0]
    later = clock() + timedelta(seconds=10)
    assert (
        form_token.signal(runtime.signing_key(), "mobile", token, now=later, min_seconds=3) is None
    )


def test_a_full_queue_refuses_new_work_but_still_takes_held_and_other_apps(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    # No GitHub credentials: everything waits in the outbox.
    config = CONFIG.replace("inline_delivery_seconds = 2", "max_queued_per_app = 2")
    settings = make_settings(config.replace('moderation = "all"', 'moderation = "none"'))
    flask_app = create_app(settings, build_runtime(settings, queue=RecordingQueue()))
    client = flask_app.test_client()
    for n in range(2):
        assert client.post(URL, json={"title": f"Queued {n}"}).status_code == 202
    refused = client.post(URL, json={"title": "One too many"})
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "60"
    assert error_code(refused) == "rate_limited"
    held = client.post(URL, json={"title": "Casino"})
    assert held.get_json()["delivery"] == "held"
    assert client.post("/v1/apps/internal/requests", json={"title": "Other"}).status_code == 202
    flask_app.extensions["featurebridge.inline"].shutdown()
