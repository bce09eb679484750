"""The pipeline over HTTP: dead deliveries, retry and cancel, the operator's /healthz."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bridge.app import build_runtime, create_app
from bridge.jobs import sweep_outbox
from bridge.runtime import Runtime
from bridge.settings import Settings
from bridge.stores.sqlite import SQLiteStore
from github_app.client import GitHubIssueTracker
from tests.conftest import CONFIG, error_code
from tests.fakes import FakeClock, RecordingQueue
from tests.github_double import Fault, GitHubDouble
from tests.processes import wait_for

URL = "/v1/apps/mobile/requests"
OPERATOR = {"Authorization": "Bearer operator-secret"}
DOWN = Fault(method="POST", path="/repos/{owner}/{repo}/issues", kind="server_error", times=None)


@pytest.fixture
def clock() -> FakeClock:  # type: ignore[override]
    from bridge.timeutil import utcnow

    return FakeClock(utcnow())


@pytest.fixture
def runtime(
    make_settings: Callable[..., Settings],
    tmp_path: Path,
    github_tracker: GitHubIssueTracker,
    clock: FakeClock,
) -> Runtime:  # type: ignore[override]
    config = CONFIG.replace("inline_delivery_seconds = 2", "delivery_max_attempts = 2")
    return build_runtime(
        make_settings(config),
        store=SQLiteStore(tmp_path / "outbox.db"),
        tracker=github_tracker,
        queue=RecordingQueue(),
        clock=clock,
    )


@pytest.fixture
def app(runtime: Runtime) -> Iterator[Flask]:  # type: ignore[override]
    flask_app = create_app(runtime.settings, runtime)
    yield flask_app
    flask_app.extensions["featurebridge.inline"].shutdown()


def creates(double: GitHubDouble) -> int:
    return sum(
        1
        for c in double.calls
        if c.method == "POST" and c.path.endswith("/issues") and c.status == 201
    )


def listing(client: FlaskClient, state: str, **extra: str) -> list[dict[str, Any]]:
    query = "&".join(f"{k}={v}" for k, v in {"state": state, **extra}.items())
    response = client.get(f"/v1/outbox?{query}", headers=OPERATOR)
    assert response.status_code == 200, response.get_json()
    return list(response.get_json()["items"])


def failed_once(client: FlaskClient, app: str = "mobile", title: str = "Dark mode") -> str:
    """A submission whose inline attempt failed (GitHub down), once that attempt is over:
    on a busy machine it may outlast the answer."""
    runtime: Runtime = client.application.extensions["featurebridge"]
    submission_id = str(
        client.post(f"/v1/apps/{app}/requests", json={"title": title}).get_json()["id"]
    )

    def settled() -> bool:
        found = runtime.store.get_submission(submission_id)
        return found is not None and found.last_error is not None

    assert wait_for(settled)
    return submission_id


def until_dead(client: FlaskClient, runtime: Runtime, clock: FakeClock) -> str:
    """A submission whose delivery fails delivery_max_attempts times while GitHub is down."""
    submission_id = failed_once(client)
    for _ in range(3):
        clock.advance(3600)
        sweep_outbox(runtime)
    return submission_id


def test_a_delivery_that_keeps_failing_is_dead_with_its_last_error(
    client: FlaskClient, runtime: Runtime, clock: FakeClock, github_double: GitHubDouble
) -> None:
    github_double.faults.add(DOWN)
    first = client.post(URL, json={"title": "Dark mode", "email": "ada@example.com"})
    assert first.get_json()["delivery"] == "queued"
    # The inline attempt may outlast the answer on a busy machine: wait for its failure.
    assert wait_for(lambda: [bool(i["last_error"]) for i in listing(client, "retrying")] == [True])
    (retrying,) = listing(client, "retrying")
    assert retrying["attempts"] == 1
    assert retrying["next_attempt_at"] is not None
    assert "500" in retrying["last_error"] or "server" in retrying["last_error"].lower()
    clock.advance(3600)
    sweep_outbox(runtime)
    (dead,) = listing(client, "dead")
    assert dead["id"] == first.get_json()["id"]
    assert dead["attempts"] == 2
    assert dead["next_attempt_at"] is None
    assert listing(client, "retrying") == []
    clock.advance(3600)
    sweep_outbox(runtime)  # dead ones are not tried again
    stored = runtime.store.get_submission(dead["id"])
    assert stored is not None
    assert stored.attempts == 2
    text = client.get("/v1/outbox?state=dead", headers=OPERATOR).get_data(as_text=True)
    assert "ada@example.com" not in text
    assert "Dark mode" not in text


def test_retry_delivers_a_dead_one_exactly_once(
    client: FlaskClient, runtime: Runtime, clock: FakeClock, github_double: GitHubDouble
) -> None:
    github_double.faults.add(DOWN)
    submission_id = until_dead(client, runtime, clock)
    github_double.faults.clear()
    retried = client.post(f"/v1/outbox/{submission_id}/retry", headers=OPERATOR)
    assert retried.status_code == 200
    assert retried.get_json()["state"] == "retrying"
    assert [d["action"] for d in retried.get_json()["decisions"]] == ["retry"]
    sweep_outbox(runtime)
    clock.advance(3600)
    sweep_outbox(runtime)
    assert creates(github_double) == 1
    again = client.post(f"/v1/outbox/{submission_id}/retry", headers=OPERATOR)
    assert again.get_json()["state"] == "delivered"
    assert again.get_json()["number"] is not None
    assert creates(github_double) == 1


def test_cancel_keeps_a_submission_that_never_reached_github(
    client: FlaskClient, runtime: Runtime, clock: FakeClock, github_double: GitHubDouble
) -> None:
    github_double.faults.add(DOWN)
    submission_id = failed_once(client)
    github_double.faults.clear()
    cancelled = client.delete(
        f"/v1/outbox/{submission_id}", json={"reason": "asked twice"}, headers=OPERATOR
    )
    assert cancelled.status_code == 200
    body = cancelled.get_json()
    assert body["state"] == "cancelled"
    assert body["decisions"][0]["reason"] == "asked twice"
    assert client.delete(f"/v1/outbox/{submission_id}", headers=OPERATOR).status_code == 200
    clock.advance(3600)
    sweep_outbox(runtime)
    assert creates(github_double) == 0
    assert [i["id"] for i in listing(client, "cancelled")] == [submission_id]
    retry = client.post(f"/v1/outbox/{submission_id}/retry", headers=OPERATOR)
    assert error_code(retry) == "conflict"


def test_what_is_on_github_cannot_be_cancelled(
    client: FlaskClient, github_double: GitHubDouble
) -> None:
    delivered = client.post(URL, json={"title": "Dark mode"}).get_json()
    assert delivered["delivery"] == "delivered"
    refused = client.delete(f"/v1/outbox/{delivered['id']}", headers=OPERATOR)
    assert error_code(refused) == "conflict"
    github_double.faults.add(
        Fault(method="POST", path="/repos/{owner}/{repo}/issues", kind="drop_after_create")
    )
    unknown = client.post(URL, json={"title": "Offline sync"}).get_json()
    refused = client.delete(f"/v1/outbox/{unknown['id']}", headers=OPERATOR)
    assert error_code(refused) == "conflict"
    assert "may have created" in refused.get_json()["error"]["message"]


def test_the_pipeline_is_for_operators_and_checks_what_it_is_given(client: FlaskClient) -> None:
    sid = client.post(URL, json={"title": "Dark mode"}).get_json()["id"]
    assert client.get("/v1/outbox").status_code == 401
    assert client.post(f"/v1/outbox/{sid}/retry").status_code == 401
    assert client.delete(f"/v1/outbox/{sid}").status_code == 401
    assert error_code(client.get("/v1/outbox?state=lost", headers=OPERATOR)) == "bad_request"
    assert error_code(client.get("/v1/outbox?cursor=abc", headers=OPERATOR)) == "bad_request"
    assert client.get("/v1/outbox?app=nope", headers=OPERATOR).status_code == 404
    assert client.post(f"/v1/outbox/{'0' * 32}/retry", headers=OPERATOR).status_code == 404
    assert client.delete("/v1/outbox/not-an-id", headers=OPERATOR).status_code == 404
    held_back = client.post(f"/v1/outbox/{sid}/retry", headers=OPERATOR)
    assert held_back.status_code == 200  # delivered: answered as it is
    assert held_back.get_json()["state"] == "delivered"


def test_the_operators_healthz_counts_each_state(
    client: FlaskClient, runtime: Runtime, clock: FakeClock, github_double: GitHubDouble
) -> None:
    github_double.faults.add(DOWN)
    until_dead(client, runtime, clock)
    failed_once(client, title="Offline sync")
    operator = client.get("/healthz", headers=OPERATOR).get_json()["queue"]
    assert operator["submissions_by_state"] == {
        "pending": 0,
        "retrying": 1,
        "held": 0,
        "rejected": 0,
        "dead": 1,
        "cancelled": 0,
    }
    assert operator["oldest_pending_age_seconds"] is not None
    public = client.get("/healthz").get_json()["queue"]
    assert "submissions_by_state" not in public


def test_listings_page_across_apps(client: FlaskClient, github_double: GitHubDouble) -> None:
    github_double.faults.add(DOWN)
    for app in ("mobile", "internal", "mobile"):
        sid = failed_once(client, app, f"For {app}")
        assert client.delete(f"/v1/outbox/{sid}", headers=OPERATOR).status_code == 200
    first = client.get("/v1/outbox?state=cancelled&limit=2", headers=OPERATOR).get_json()
    assert [i["app"] for i in first["items"]] == ["mobile", "mobile"]
    rest = client.get(
        f"/v1/outbox?state=cancelled&limit=2&cursor={first['next_cursor']}", headers=OPERATOR
    ).get_json()
    assert [i["app"] for i in rest["items"]] == ["internal"]
    assert rest["next_cursor"] is None
    assert [i["app"] for i in listing(client, "cancelled", app="internal")] == ["internal"]
