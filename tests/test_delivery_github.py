"""Submissions delivered to the GitHub double: one issue each, whatever GitHub does."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bridge.app import build_runtime, create_app
from bridge.jobs import sweep_outbox
from bridge.runtime import Runtime
from bridge.settings import Settings
from bridge.stores.sqlite import SQLiteStore
from github_app.client import GitHubIssueTracker
from github_app.render import parse_marker
from tests.fakes import FakeClock, RecordingQueue
from tests.github_double import Fault, GitHubDouble

URL = "/v1/apps/mobile/requests"
CREATE = "/repos/{owner}/{repo}/issues"
PRIVATE = {"email": "ada@example.com", "name": "Ada Lovelace"}


@pytest.fixture
def clock() -> FakeClock:  # type: ignore[override]
    # The double stamps issues with the wall clock; the bridge's clock starts there too.
    from bridge.timeutil import utcnow

    return FakeClock(utcnow())


def _runtime(
    settings: Settings, tmp_path: Path, tracker: GitHubIssueTracker, clock: FakeClock
) -> Runtime:
    return build_runtime(
        settings,
        store=SQLiteStore(tmp_path / "gh.db"),
        tracker=tracker,
        queue=RecordingQueue(),
        clock=clock,
    )


@pytest.fixture
def runtime(
    make_settings: Callable[..., Settings],
    tmp_path: Path,
    github_tracker: GitHubIssueTracker,
    clock: FakeClock,
) -> Runtime:  # type: ignore[override]
    return _runtime(make_settings(), tmp_path, github_tracker, clock)


@pytest.fixture
def app(runtime: Runtime) -> Iterator[Flask]:  # type: ignore[override]
    flask_app = create_app(runtime.settings, runtime)
    yield flask_app
    flask_app.extensions["featurebridge.inline"].shutdown()


def creates(double: GitHubDouble) -> list[object]:
    return [c for c in double.calls if c.method == "POST" and c.path.endswith("/issues")]


def test_one_issue_with_title_labels_marker_and_no_private_data(
    client: FlaskClient, github_double: GitHubDouble
) -> None:
    response = client.post(
        URL,
        json={
            "title": "  Dark mode  ",
            "description": "Ping @octocat <!-- hidden --> please",
            "metadata": {"plan": "pro"},
            **PRIVATE,
        },
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    [issue] = github_double.issues("acme/mobile")
    assert issue["number"] == body["number"]
    assert issue["html_url"] == body["url"]
    assert issue["title"] == "Dark mode"
    assert [label["name"] for label in issue["labels"]] == ["feature-request", "app:mobile"]
    assert {label["name"] for label in github_double.labels("acme/mobile")} >= {
        "feature-request",
        "app:mobile",
    }
    assert parse_marker(issue["body"]) == ("mobile", body["id"])
    assert "@octocat" not in issue["body"]
    assert "hidden" not in issue["body"]
    everything_on_github = json.dumps([c.json for c in github_double.calls])
    for secret in PRIVATE.values():
        assert secret not in everything_on_github


def test_warm_token_costs_one_request_per_submission(
    client: FlaskClient, github_double: GitHubDouble
) -> None:
    client.post(URL, json={"title": "First"})
    before = len(github_double.calls)
    client.post(URL, json={"title": "Second"})
    assert len(github_double.calls) - before == 1


def test_github_5xx_answers_202_then_exactly_one_issue(
    client: FlaskClient, github_double: GitHubDouble, runtime: Runtime, clock: FakeClock
) -> None:
    github_double.faults.add(Fault(method="POST", path=CREATE, kind="server_error", times=1))
    response = client.post(URL, json={"title": "Dark mode"})
    assert response.status_code == 202
    assert github_double.issues("acme/mobile") == []
    clock.advance(5)
    sweep_outbox(runtime)
    assert len(github_double.issues("acme/mobile")) == 1
    clock.advance(3600)
    sweep_outbox(runtime)
    assert len(github_double.issues("acme/mobile")) == 1
    shown = client.get(f"{URL}/1").get_json()
    assert shown["bridge_votes"] == 1


def test_dropped_answer_gives_one_issue(
    client: FlaskClient, github_double: GitHubDouble, runtime: Runtime, clock: FakeClock
) -> None:
    github_double.faults.add(Fault(method="POST", path=CREATE, kind="drop_after_create", times=1))
    response = client.post(URL, json={"title": "Dark mode"})
    assert response.status_code == 202
    assert len(github_double.issues("acme/mobile")) == 1  # made, but the bridge never heard
    clock.advance(5)
    sweep_outbox(runtime)
    submission = runtime.store.get_submission(response.get_json()["id"])
    assert submission is not None
    assert submission.number == github_double.issues("acme/mobile")[0]["number"]
    assert len(github_double.issues("acme/mobile")) == 1
    assert len(creates(github_double)) == 1


def test_a_forged_issue_with_the_submissions_marker_is_not_adopted(
    client: FlaskClient, github_double: GitHubDouble, runtime: Runtime, clock: FakeClock
) -> None:
    github_double.faults.add(Fault(method="POST", path=CREATE, kind="drop_after_create", times=1))
    response = client.post(URL, json={"title": "Dark mode"})
    assert response.status_code == 202
    submission_id = response.get_json()["id"]
    made = github_double.issues("acme/mobile")[0]
    # Anyone can read the id in the 202 and file a newer issue carrying the same marker.
    github_double.add_issue(
        "acme/mobile",
        "Forged",
        body=f"free votes\n<!-- featurebridge:{made['body'].split('featurebridge:')[1]}",
        user_login="mallory",
    )
    assert parse_marker(github_double.issues("acme/mobile")[1]["body"]) == ("mobile", submission_id)
    clock.advance(5)
    sweep_outbox(runtime)
    submission = runtime.store.get_submission(submission_id)
    assert submission is not None
    assert submission.number == made["number"]
    assert len(creates(github_double)) == 1


def test_secondary_limit_is_honoured(
    client: FlaskClient, github_double: GitHubDouble, runtime: Runtime, clock: FakeClock
) -> None:
    github_double.faults.add(
        Fault(method="POST", path=CREATE, kind="secondary_rate_limit", times=1, retry_after=120)
    )
    assert client.post(URL, json={"title": "Dark mode"}).status_code == 202
    attempts = len(creates(github_double))
    for _ in range(11):
        clock.advance(10)  # up to 110 s: still inside Retry-After
        sweep_outbox(runtime)
    assert len(creates(github_double)) == attempts
    clock.advance(11)
    sweep_outbox(runtime)
    assert len(creates(github_double)) == attempts + 1
    assert len(github_double.issues("acme/mobile")) == 1


def test_primary_limit_waits_for_the_reset(
    client: FlaskClient, github_double: GitHubDouble, runtime: Runtime, clock: FakeClock
) -> None:
    github_double.faults.add(
        Fault(method="POST", path=CREATE, kind="primary_rate_limit", times=1, retry_after=300)
    )
    assert client.post(URL, json={"title": "Dark mode"}).status_code == 202
    pending = runtime.store.due_submissions(now=clock(), limit=5)
    assert pending == []  # rescheduled past the reset, not retried at once


def test_burst_of_200_is_delivered_paced_under_the_budget(
    make_settings: Callable[..., Settings],
    tmp_path: Path,
    github_tracker: GitHubIssueTracker,
    github_double: GitHubDouble,
    clock: FakeClock,
) -> None:
    settings = make_settings(
        """
        [server]
        inline_delivery_seconds = 0
        github_writes_per_minute = 40
        github_writes_per_hour = 500
        [[apps]]
        id = "mobile"
        name = "M"
        repo = "acme/mobile"
        labels = ["feature-request"]
        """
    )
    runtime = _runtime(settings, tmp_path, github_tracker, clock)
    client = create_app(settings, runtime).test_client()
    for n in range(200):
        response = client.post(
            URL, json={"title": f"Request {n}"}, environ_base={"REMOTE_ADDR": f"10.0.{n // 8}.{n}"}
        )
        assert response.status_code == 202
    sent_at: list[float] = []
    for _ in range(100):
        before = len(creates(github_double))
        sweep_outbox(runtime)
        sent_at += [clock().timestamp()] * (len(creates(github_double)) - before)
        if runtime.store.outbox_stats().pending == 0:
            break
        clock.advance(10)
    assert runtime.store.outbox_stats().pending == 0
    assert len(github_double.issues("acme/mobile")) == 200
    for moment in sent_at:
        assert sum(1 for t in sent_at if moment - 60 < t <= moment) <= 40
