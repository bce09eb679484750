"""POST /github/webhooks: signatures, once-per-delivery effects, every event GitHub sends."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient

from bridge.domain import Source, Status, Vote
from bridge.runtime import Runtime
from github_app.webhooks import sign
from tests.fakes import FakeClock
from tests.webhook_payloads import ROOT, example, examples, issue_payload

SECRET = "webhook-secret"
URL = "/github/webhooks"
HANDLED = (
    "issues",
    "issue_comment",
    "label",
    "installation",
    "installation_repositories",
    "ping",
    "projects_v2_item",
)


@pytest.fixture
def runtime(make_settings, tmp_path, tracker, clock) -> Runtime:  # type: ignore[no-untyped-def]
    from bridge.app import build_runtime
    from bridge.stores.sqlite import SQLiteStore
    from tests.fakes import RecordingQueue

    settings = make_settings(
        GITHUB_WEBHOOK_SECRET=SECRET, GITHUB_WEBHOOK_SECRET_PREVIOUS="old-secret"
    )
    return build_runtime(
        settings,
        store=SQLiteStore(tmp_path / "w.db"),
        tracker=tracker,
        queue=RecordingQueue(),
        clock=clock,
    )


def deliver(
    client: FlaskClient,
    event: str,
    payload: dict[str, Any] | bytes,
    *,
    delivery: str | None = None,
    secret: str = SECRET,
    headers: dict[str, str] | None = None,
):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    sent = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": sign(body, secret),
        **(headers or {}),
    }
    return client.post(URL, data=body, content_type="application/json", headers=sent)


# ------------------------------------------------------------------ every example


@pytest.mark.parametrize(
    ("event", "index"),
    [(event, i) for event in HANDLED for i in range(len(examples()[event]))],
)
def test_every_example_is_answered_without_a_server_error(
    client: FlaskClient, event: str, index: int
) -> None:
    response = deliver(client, event, examples()[event][index])
    assert response.status_code in (200, 202), response.get_json()


# ------------------------------------------------------------------ status rules


@pytest.mark.parametrize(
    ("state", "state_reason", "labels", "expected"),
    [
        ("closed", "completed", (), Status.COMPLETED),
        ("closed", None, (), Status.COMPLETED),
        ("closed", "not_planned", (), Status.DECLINED),
        ("closed", "duplicate", (), Status.DUPLICATE),
        ("closed", "not_planned", ("status: planned",), Status.DECLINED),
        ("open", "reopened", (), Status.OPEN),
        ("open", None, ("status: planned",), Status.PLANNED),
        ("open", None, (), Status.OPEN),
    ],
)
def test_status_follows_the_issue(
    client: FlaskClient,
    runtime: Runtime,
    state: str,
    state_reason: str | None,
    labels: tuple[str, ...],
    expected: Status,
) -> None:
    action = {"closed": "closed", "open": "reopened" if state_reason == "reopened" else "labeled"}[
        state
    ]
    all_labels = ("feature-request", "app:mobile", *labels)
    response = deliver(
        client,
        "issues",
        issue_payload(action, labels=all_labels, state=state, state_reason=state_reason),
    )
    assert response.status_code == 200
    indexed = runtime.store.get_request("mobile", 1)
    assert indexed is not None
    assert indexed.status is expected
    assert (indexed.closed_at is not None) == (state == "closed")


def test_issue_born_on_github_joins_its_app(client: FlaskClient, runtime: Runtime) -> None:
    deliver(client, "issues", issue_payload("opened", number=5, thumbs_up=3))
    indexed = runtime.store.get_request("mobile", 5)
    assert indexed is not None
    assert (indexed.source, indexed.bridge_votes, indexed.github_thumbs_up) == (Source.GITHUB, 0, 3)
    assert runtime.store.get_request("internal", 5) is None


def test_issue_without_all_labels_is_not_indexed(client: FlaskClient, runtime: Runtime) -> None:
    deliver(client, "issues", issue_payload("opened", labels=("feature-request",)))
    assert runtime.store.get_request("mobile", 1) is None


def test_unlabeled_issue_leaves_the_app(client: FlaskClient, runtime: Runtime) -> None:
    deliver(client, "issues", issue_payload("opened"))
    deliver(client, "issues", issue_payload("unlabeled", labels=("feature-request",)))
    assert runtime.store.get_request("mobile", 1) is None


def test_issue_that_leaves_and_returns_keeps_votes_voters_and_submission(
    client: FlaskClient, runtime: Runtime, clock: FakeClock
) -> None:
    submitted = client.post("/v1/apps/mobile/requests", json={"title": "Dark mode"}).get_json()
    runtime.store.add_vote(Vote("mobile", 1, "user-1", clock(), weight=2))
    deliver(client, "issues", issue_payload("unlabeled", labels=("feature-request",)))
    assert runtime.store.get_request("mobile", 1) is None
    deliver(client, "issues", issue_payload("labeled"))
    back = runtime.store.get_request("mobile", 1)
    assert back is not None
    assert (back.source, back.submission_id) == (Source.API, submitted["id"])
    assert (back.bridge_votes, back.weighted_votes) == (2, 3)
    assert runtime.store.voted("mobile", "user-1", [1]) == frozenset({1})


def test_labels_that_differ_only_in_case_still_belong(
    client: FlaskClient, runtime: Runtime
) -> None:
    deliver(client, "issues", issue_payload("opened", labels=("Feature-Request", "APP:Mobile")))
    assert runtime.store.get_request("mobile", 1) is not None


def test_a_strictly_older_webhook_rolls_nothing_back(client: FlaskClient, runtime: Runtime) -> None:
    newer, older = "2030-01-01T00:00:01Z", "2030-01-01T00:00:00Z"
    deliver(client, "issues", issue_payload("edited", title="New", updated_at=newer))
    stale = issue_payload("unlabeled", labels=("feature-request",), updated_at=older)
    deliver(client, "issues", stale)
    deliver(client, "issues", issue_payload("edited", title="Old", updated_at=older))
    kept = runtime.store.get_request("mobile", 1)
    assert kept is not None
    assert kept.title == "New"
    deliver(client, "issues", issue_payload("edited", title="Same", updated_at=newer))
    assert runtime.store.get_request("mobile", 1).title == "Same"  # type: ignore[union-attr]


def test_deleted_issue_leaves_the_index(client: FlaskClient, runtime: Runtime) -> None:
    deliver(client, "issues", issue_payload("opened"))
    deleted = issue_payload("opened")
    deleted["action"] = "deleted"
    deliver(client, "issues", deleted)
    assert runtime.store.get_request("mobile", 1) is None


def test_transferred_issue_leaves_and_joins_the_new_repos_app(
    client: FlaskClient, runtime: Runtime
) -> None:
    deliver(client, "issues", issue_payload("opened", number=3))
    moved = example("issues", "transferred")
    moved["repository"]["full_name"] = "acme/mobile"
    moved["issue"]["number"] = 3
    target = issue_payload(
        "opened", repo="acme/internal", number=9, labels=("feature-request", "app:internal")
    )
    moved["changes"]["new_repository"]["full_name"] = "acme/internal"
    moved["changes"]["new_issue"] = target["issue"]
    assert deliver(client, "issues", moved).status_code == 200
    assert runtime.store.get_request("mobile", 3) is None
    joined = runtime.store.get_request("internal", 9)
    assert joined is not None
    assert joined.source is Source.GITHUB


def test_edit_keeps_bridge_votes_and_missing_reactions_keep_thumbs(
    client: FlaskClient, runtime: Runtime
) -> None:
    client.post("/v1/apps/mobile/requests", json={"title": "Dark mode"})
    deliver(client, "issues", issue_payload("edited", title="Dark mode, please", thumbs_up=4))
    deliver(
        client,
        "issues",
        issue_payload(
            "labeled",
            title="Dark mode, please",
            thumbs_up=None,
            labels=("feature-request", "app:mobile", "x"),
        ),
    )
    indexed = runtime.store.get_request("mobile", 1)
    assert indexed is not None
    assert indexed.title == "Dark mode, please"
    assert (indexed.bridge_votes, indexed.github_thumbs_up, indexed.total_votes) == (1, 4, 5)
    assert indexed.source is Source.API


def test_comment_refreshes_thumbs_from_the_rollup(client: FlaskClient, runtime: Runtime) -> None:
    deliver(client, "issues", issue_payload("opened"))
    comment = example("issue_comment", "created")
    comment["repository"]["full_name"] = "acme/mobile"
    comment["issue"] = issue_payload("opened", thumbs_up=12)["issue"]
    assert deliver(client, "issue_comment", comment).status_code == 200
    assert runtime.store.get_request("mobile", 1).github_thumbs_up == 12  # type: ignore[union-attr]


def test_installation_events_keep_the_installed_repos(
    client: FlaskClient, runtime: Runtime
) -> None:
    created = example("installation", "created")
    assert deliver(client, "installation", created).status_code == 200
    repos = {repo["full_name"] for repo in created["repositories"]}
    assert runtime.store.installed_repos() == repos
    removed = example("installation_repositories", "removed")
    deliver(client, "installation_repositories", removed)
    gone = {repo["full_name"] for repo in removed["repositories_removed"]}
    assert not (runtime.store.installed_repos() & gone)


def test_label_rename_of_an_app_label_is_logged(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    edited = example("label", "edited")
    edited["repository"]["full_name"] = "acme/mobile"
    edited["changes"] = {"name": {"from": "status: planned"}}
    assert deliver(client, "label", edited).status_code == 200
    assert "status: planned" in caplog.text
    assert "renamed" in caplog.text


def test_a_deliverys_log_lines_carry_its_id_and_event(
    client: FlaskClient, log_lines: list[dict[str, Any]]
) -> None:
    assert deliver(client, "issues", issue_payload("opened"), delivery="d-42").status_code == 200
    [line] = [line for line in log_lines if line.get("event") == "http"]
    assert (line["delivery_id"], line["github_event"], line["status"]) == ("d-42", "issues", 200)


# ------------------------------------------------------------------ at most once, and healing


def test_repeat_delivery_has_no_second_effect(client: FlaskClient, runtime: Runtime) -> None:
    first = deliver(client, "issues", issue_payload("opened"), delivery="d-1")
    assert first.get_json()["applied"] is True
    deliver(
        client,
        "issues",
        issue_payload("closed", state="closed", state_reason="not_planned"),
        delivery="d-2",
    )
    again = deliver(client, "issues", issue_payload("opened"), delivery="d-1")
    assert again.status_code == 200
    assert again.get_json()["applied"] is False
    assert runtime.store.get_request("mobile", 1).status is Status.DECLINED  # type: ignore[union-attr]


def test_redelivery_after_a_failure_heals(
    client: FlaskClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bridge.ports import StoreError

    original = runtime.store.record_github_changes

    def broken(*args: Any, **kwargs: Any) -> bool:
        raise StoreError("disk I/O error")

    monkeypatch.setattr(runtime.store, "record_github_changes", broken)
    failed = deliver(client, "issues", issue_payload("opened"), delivery="d-9")
    assert failed.status_code == 503
    assert runtime.store.get_request("mobile", 1) is None
    monkeypatch.setattr(runtime.store, "record_github_changes", original)
    healed = deliver(client, "issues", issue_payload("opened"), delivery="d-9")
    assert healed.get_json()["applied"] is True
    assert runtime.store.get_request("mobile", 1) is not None


# ------------------------------------------------------------------ refusals


def test_bad_signature_is_401(client: FlaskClient, runtime: Runtime) -> None:
    response = deliver(client, "issues", issue_payload("opened"), secret="wrong")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert runtime.store.get_request("mobile", 1) is None


def test_previous_secret_works_during_rotation(client: FlaskClient) -> None:
    assert (
        deliver(client, "issues", issue_payload("opened"), secret="old-secret").status_code == 200
    )


@pytest.mark.parametrize("header", ["X-GitHub-Event", "X-GitHub-Delivery"])
def test_missing_header_is_400_naming_it(client: FlaskClient, header: str) -> None:
    body = json.dumps(issue_payload("opened")).encode()
    headers = {
        "X-GitHub-Event": "issues",
        "X-GitHub-Delivery": "d",
        "X-Hub-Signature-256": sign(body, SECRET),
    }
    del headers[header]
    response = client.post(URL, data=body, content_type="application/json", headers=headers)
    assert response.status_code == 400
    assert header in response.get_json()["error"]["fields"]


@pytest.mark.parametrize("signature", [None, "", "sha256=", "sha1=abc", "sha256=zz\u00e9"])
def test_missing_empty_or_malformed_signature_is_401(
    client: FlaskClient, signature: str | None
) -> None:
    body = json.dumps(issue_payload("opened")).encode()
    headers = {"X-GitHub-Event": "issues", "X-GitHub-Delivery": "d"}
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    response = client.post(URL, data=body, content_type="application/json", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_signed_body_nested_thousands_deep_is_400(client: FlaskClient) -> None:
    response = deliver(client, "issues", b"[" * 200_000 + b"]" * 200_000)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"


def test_non_json_body_is_400(client: FlaskClient) -> None:
    response = deliver(client, "issues", b"not json at all")
    assert response.status_code == 400


def test_payload_missing_what_the_handler_needs_is_422(client: FlaskClient) -> None:
    response = deliver(
        client, "issues", {"action": "opened", "repository": {"full_name": "acme/mobile"}}
    )
    assert response.status_code == 422


def test_body_over_5_mib_is_413(client: FlaskClient) -> None:
    response = deliver(client, "issues", b"x" * (5 * 1024 * 1024 + 10))
    assert response.status_code == 413


def test_real_sized_payload_of_several_hundred_kb_is_accepted(
    client: FlaskClient, runtime: Runtime
) -> None:
    payload = issue_payload("opened")
    payload["issue"]["body"] = "lorem ipsum " * 50_000
    body = json.dumps(payload).encode()
    assert 500_000 < len(body) < 5 * 1024 * 1024
    assert deliver(client, "issues", body).status_code == 200
    assert runtime.store.get_request("mobile", 1) is not None


def test_events_from_the_bridges_own_bot_are_ignored(client: FlaskClient, runtime: Runtime) -> None:
    payload = issue_payload("opened")
    payload["sender"]["login"] = "featurebridge[bot]"
    response = deliver(client, "issues", payload)
    assert response.status_code == 202
    assert runtime.store.get_request("mobile", 1) is None


def test_unknown_event_is_accepted_and_ignored(client: FlaskClient) -> None:
    response = deliver(client, "star", example("star"))
    assert response.status_code == 202
    assert "no handler" in response.get_json()["ignored"]


def test_webhooks_refused_when_no_secret_is_configured(make_settings) -> None:  # type: ignore[no-untyped-def]
    from bridge.app import create_app

    client = create_app(make_settings()).test_client()
    response = deliver(client, "issues", issue_payload("opened"))
    assert response.status_code == 503


# ------------------------------------------------------------------ the running service


def test_every_example_delivered_signed_to_the_running_service(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    from tests.processes import free_port, http, start_serve

    shutil.copy(ROOT / "featurebridge.example.toml", tmp_path / "featurebridge.toml")
    port = free_port()
    process = start_serve(tmp_path, port, GITHUB_WEBHOOK_SECRET=SECRET)
    try:
        for event in HANDLED:
            for payload in examples()[event]:
                body = json.dumps(payload).encode()
                status, answer = http(
                    "POST",
                    f"http://127.0.0.1:{port}{URL}",
                    body,
                    {
                        "X-GitHub-Event": event,
                        "X-GitHub-Delivery": str(uuid.uuid4()),
                        "X-Hub-Signature-256": sign(body, SECRET),
                    },
                )
                assert status in (200, 202), (event, payload.get("action"), answer)
    finally:
        process.terminate()
        process.wait(timeout=15)
