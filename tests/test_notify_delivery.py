"""Outgoing webhooks end to end: SQLite index, a loopback receiver, a fake clock."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from msgspec.structs import replace

from bridge.app import build_runtime, create_app
from bridge.domain import Status
from bridge.duplicates import merge_duplicate
from bridge.notify.emit import DELIVER_NOTIFICATION, record_changes
from bridge.notify.outbox import RETRY_WINDOW
from bridge.notify.report import run_notifications
from bridge.notify.service import Notifications
from bridge.notify.webhooks import SafeWebhookPoster
from bridge.ports import GitHubChanges
from bridge.runtime import Runtime
from bridge.settings import Settings
from bridge.stores.sqlite import SQLiteStore
from bridge.sync import sync_all
from tests.fakes import FakeClock, FakeTracker, RecordingQueue
from tests.notify_support import EMAIL, PERSON, file_request, settle
from tests.voter_tokens import mint
from tests.webhook_receiver import Receiver, running_receiver

README = Path(__file__).parent.parent / "README.md"
SECRET = "hook-signing-secret-of-the-tests"

CONFIG = """
[server]
public_url = "https://feedback.example.com"
allow_private_webhook_targets = true

[[apps]]
id = "mobile"
name = "Acme Mobile"
repo = "acme/mobile"
labels = ["feature-request", "app:mobile"]
public = true
voter_secret_env = "MOBILE_VOTER_SECRET"

[[apps.notify.webhooks]]
url = "{json_url}"
format = "json"
secret_env = "MOBILE_WEBHOOK_SECRET"

[[apps.notify.webhooks]]
url = "{slack_url}"
format = "slack"
events = ["request.created", "vote.milestone"]
"""


@pytest.fixture
def receivers() -> Iterator[tuple[Receiver, Receiver]]:
    with running_receiver() as json_receiver, running_receiver() as slack_receiver:
        yield json_receiver, slack_receiver


@pytest.fixture
def clock() -> FakeClock:
    # Real time: the README's recipe refuses timestamps more than 5 minutes off.
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def rt(
    make_settings: Callable[..., Settings],
    tmp_path: Path,
    clock: FakeClock,
    receivers: tuple[Receiver, Receiver],
) -> Runtime:
    json_receiver, slack_receiver = receivers
    settings = make_settings(
        CONFIG.format(json_url=json_receiver.url, slack_url=slack_receiver.url),
        MOBILE_WEBHOOK_SECRET=SECRET,
        MOBILE_VOTER_SECRET="mobile-voter-secret-of-at-least-32-bytes",
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


def events_of(receiver: Receiver) -> list[dict[str, Any]]:
    return [json.loads(post.body) for post in receiver.accepted]


def readme_snippet(marker: str) -> str:
    text = README.read_text(encoding="utf-8")
    found = re.search(rf"<!-- {marker} -->\n```\w+\n(.*?)```", text, re.DOTALL)
    assert found, f"README has no {marker} snippet"
    return found.group(1)


def test_json_deliveries_verify_with_the_readmes_python_recipe(
    rt: Runtime, clock: FakeClock, receivers: tuple[Receiver, Receiver]
) -> None:
    file_request(rt)
    settle(rt, clock, within=timedelta(seconds=1))
    (post,) = receivers[0].accepted
    namespace: dict[str, Any] = {}
    exec(readme_snippet("verify-python"), namespace)
    verify = namespace["verify"]
    stamp = post.headers["X-Featurebridge-Timestamp"]
    signature = post.headers["X-Featurebridge-Signature"]
    assert verify(SECRET, stamp, post.body, signature)
    assert not verify("another-secret", stamp, post.body, signature)
    assert not verify(SECRET, stamp, post.body + b" ", signature)
    assert not verify(SECRET, str(int(stamp) - 600), post.body, signature)
    event = json.loads(post.body)
    assert event["type"] == "request.created"
    assert post.headers["X-Featurebridge-Event-Id"] == event["id"]
    assert event["request"]["url"] == "https://github.com/acme/mobile/issues/1"


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node")
def test_json_deliveries_verify_with_the_readmes_node_recipe(
    rt: Runtime, clock: FakeClock, receivers: tuple[Receiver, Receiver]
) -> None:
    file_request(rt)
    settle(rt, clock, within=timedelta(seconds=1))
    (post,) = receivers[0].accepted
    harness = readme_snippet("verify-node") + (
        "\nconst input = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));"
        "\nconst body = Buffer.from(input.body, 'base64');"
        "\nconst check = (secret) => verify(secret, input.timestamp, body, input.signature);"
        "\nconsole.log(JSON.stringify([check(input.secret), check('another-secret')]));"
    )
    given = {
        "secret": SECRET,
        "timestamp": post.headers["X-Featurebridge-Timestamp"],
        "signature": post.headers["X-Featurebridge-Signature"],
        "body": base64.b64encode(post.body).decode(),
    }
    answer = subprocess.run(
        ["node", "-e", harness],
        input=json.dumps(given),
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert json.loads(answer.stdout) == [True, False]


def test_slack_gets_a_readable_message_with_the_link(
    rt: Runtime, clock: FakeClock, receivers: tuple[Receiver, Receiver]
) -> None:
    file_request(rt, title="Offline maps")
    settle(rt, clock, within=timedelta(seconds=1))
    (post,) = receivers[1].accepted
    assert "X-Featurebridge-Signature" not in post.headers
    assert json.loads(post.body)["text"] == (
        "New feature request for *Acme Mobile*:"
        " <https://github.com/acme/mobile/issues/1|#1 Offline maps>"
    )


def test_a_receiver_failing_five_times_then_recovering_gets_every_event_once_by_id(
    rt: Runtime, clock: FakeClock, client: FlaskClient, receivers: tuple[Receiver, Receiver]
) -> None:
    json_receiver, slack_receiver = receivers
    json_receiver.fail_next = 5
    first, second = file_request(rt, "Dark mode"), file_request(rt, "Widgets")
    for voter in range(9):
        token = mint(sub=f"user-{voter}", iat=int(clock().timestamp()))
        answer = client.post(f"/v1/apps/mobile/requests/{first}/votes", json={"voter_token": token})
        assert answer.status_code == 200
    settle(rt, clock)
    assert len(json_receiver.posts) > len(json_receiver.accepted) >= 3
    ids = [event["id"] for event in events_of(json_receiver)]
    kinds = sorted(
        (event["type"], event["request"]["number"]) for event in events_of(json_receiver)
    )
    assert kinds == [
        ("request.created", first),
        ("request.created", second),
        ("vote.milestone", first),
    ]
    assert len(set(ids)) == len(ids)  # once each, after dedupe by id
    # The other receiver was never held up: each of its events arrived at the first try.
    assert len(slack_receiver.posts) == len(slack_receiver.accepted) == 3
    delays = [
        delay
        for job, delay in zip(rt.queue.jobs, rt.queue.delays, strict=True)  # type: ignore[attr-defined]
        if job.kind == DELIVER_NOTIFICATION and delay > 0
    ]
    assert len(delays) == 5
    assert delays[-1] > delays[0]  # backing off


def test_milestones_fire_once_each_however_votes_arrive(
    rt: Runtime, clock: FakeClock, client: FlaskClient, receivers: tuple[Receiver, Receiver]
) -> None:
    number = file_request(rt)
    url = f"/v1/apps/mobile/requests/{number}/votes"
    tokens = [mint(sub=f"user-{n}", iat=int(clock().timestamp())) for n in range(10)]
    for token in tokens[:9]:
        client.post(url, json={"voter_token": token})  # 10 with the submitter's
    client.delete(url, json={"voter_token": tokens[0]})  # 9
    clock.advance(5)  # a later crossing of 10 is still the same milestone
    client.post(url, json={"voter_token": tokens[0]})  # 10 again: no second milestone
    client.post(url, json={"voter_token": tokens[9]})  # 11
    # 👍 on GitHub, seen by a sync: 11 + 40 passes 25 and 50 at once.
    tracker = rt.tracker
    assert isinstance(tracker, FakeTracker)
    issue = tracker.issues["acme/mobile"][0]
    tracker.issues["acme/mobile"][0] = replace(
        issue, thumbs_up=40, updated_at=clock() + timedelta(minutes=1)
    )
    clock.advance(120)
    sync_all(rt)
    sync_all(rt)
    settle(rt, clock)
    milestones = [e["milestone"] for e in events_of(receivers[0]) if e["type"] == "vote.milestone"]
    assert sorted(milestones) == [10, 25, 50]
    slack = [json.loads(post.body)["text"] for post in receivers[1].accepted]
    assert sum("passed *10 votes*" in text for text in slack) == 1


def test_a_status_change_seen_by_webhook_and_sync_is_announced_once(
    rt: Runtime,
    clock: FakeClock,
    receivers: tuple[Receiver, Receiver],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    number = file_request(rt)
    tracker = rt.tracker
    assert isinstance(tracker, FakeTracker)
    before = rt.store.get_request("mobile", number)
    assert before is not None
    clock.advance(60)
    closed = replace(
        tracker.issues["acme/mobile"][0],
        state="closed",
        state_reason="completed",
        closed_at=clock(),
        updated_at=clock(),
    )
    tracker.issues["acme/mobile"][0] = closed
    # The webhook and a sync race: both read the index before either writes.
    from bridge.indexing import indexed_request

    app = rt.settings.app("mobile")
    assert app is not None
    fresh = indexed_request(app, closed, before, now=clock())
    store = rt.store
    original = store.get_request
    seen = {"calls": 0}

    def stale_read(app_id: str, n: int) -> Any:
        seen["calls"] += 1
        return before if seen["calls"] <= 2 else original(app_id, n)

    with monkeypatch.context() as patch:
        patch.setattr(store, "get_request", stale_read)
        record_changes(rt, GitHubChanges(synced=[fresh]), delivery_id="d-1")
        clock.advance(5)  # the sync comes a little later
        record_changes(rt, GitHubChanges(synced=[fresh]), delivery_id=None)
    sync_all(rt)
    settle(rt, clock)
    changes = [e for e in events_of(receivers[0]) if e["type"] == "request.status_changed"]
    assert len(changes) == 1
    assert changes[0]["request"]["status"] == "completed"
    assert changes[0]["previous_status"] == "open"
    slack = [json.loads(post.body)["text"] for post in receivers[1].accepted]
    assert slack  # created, but no status change: Slack was not asked for those
    assert not any("is now" in text for text in slack)


def test_a_receiver_down_for_25_hours_fails_for_good_and_operators_see_it(
    rt: Runtime,
    clock: FakeClock,
    client: FlaskClient,
    receivers: tuple[Receiver, Receiver],
    log_lines: list[dict[str, Any]],
) -> None:
    receivers[0].fail_next = 10**6
    file_request(rt)
    settle(rt, clock)
    failed = rt.store.recent_notifications(limit=10, state="failed")
    assert len(failed) == 1
    assert failed[0].last_error == "answered 503"
    assert failed[0].last_attempt_at is not None
    assert failed[0].last_attempt_at - failed[0].created_at >= RETRY_WINDOW
    assert 20 < failed[0].attempts < 60
    assert client.get("/v1/notifications").status_code == 401
    answer = client.get(
        "/v1/notifications?state=failed", headers={"Authorization": "Bearer operator-secret"}
    )
    assert answer.status_code == 200
    (shown,) = answer.get_json()["deliveries"]
    assert shown["destination"] == "127.0.0.1"
    assert shown["state"] == "failed"
    assert shown["event"] == "request.created"
    assert "hooks" not in json.dumps(shown)  # never the URL's path
    everything = client.get(
        "/v1/notifications", headers={"Authorization": "Bearer operator-secret"}
    )
    assert {d["state"] for d in everything.get_json()["deliveries"]} == {"failed", "delivered"}
    bad = client.get(
        "/v1/notifications?limit=0", headers={"Authorization": "Bearer operator-secret"}
    )
    assert bad.status_code == 400
    out = StringIO()
    assert run_notifications(rt.settings, state="failed", limit=5, out=out) == 0
    (line,) = out.getvalue().splitlines()
    for part in ("failed", "request.created", "answered 503"):
        assert part in line
    assert any("failed for good" in line["message"] for line in log_lines)


def test_a_refused_target_fails_at_once_and_is_logged(
    make_settings: Callable[..., Settings],
    tmp_path: Path,
    clock: FakeClock,
    log_lines: list[dict[str, Any]],
) -> None:
    settings = make_settings(
        CONFIG.format(json_url="http://127.0.0.1:9/hook", slack_url="http://10.0.0.1/hook").replace(
            "allow_private_webhook_targets = true", "allow_private_webhook_targets = false"
        ),
        MOBILE_WEBHOOK_SECRET=SECRET,
    )
    rt = build_runtime(
        settings,
        store=SQLiteStore(tmp_path / "refused.db"),
        tracker=FakeTracker(clock),
        queue=RecordingQueue(),
        clock=clock,
    )
    file_request(rt)
    settle(rt, clock)
    failed = rt.store.recent_notifications(limit=10, state="failed")
    assert sorted(item.last_error or "" for item in failed) == [
        "10.0.0.1 resolves to 10.0.0.1, a private address",
        "127.0.0.1 resolves to 127.0.0.1, a loopback address",
    ]
    assert all(item.attempts == 1 for item in failed)
    assert sum("refused" in line["message"] for line in log_lines) == 2


def test_a_receiver_whose_name_does_not_resolve_for_a_while_still_gets_the_event(
    make_settings: Callable[..., Settings], tmp_path: Path, clock: FakeClock
) -> None:
    lookups: list[str] = []

    def flaky_dns(host: str, port: int) -> list[str]:
        lookups.append(host)
        if len(lookups) <= 3:
            raise OSError("temporary failure in name resolution")
        return ["127.0.0.1"]

    with running_receiver() as receiver:
        port = receiver.url.split(":")[2].split("/")[0]
        settings = make_settings(
            CONFIG.format(
                json_url=f"http://hooks.receiver.test:{port}/hooks", slack_url=receiver.url
            ).replace('["request.created", "vote.milestone"]', '["vote.milestone"]'),
            MOBILE_WEBHOOK_SECRET=SECRET,
        )
        poster = SafeWebhookPoster(allow_private=True, resolver=flaky_dns)
        rt = build_runtime(
            settings,
            store=SQLiteStore(tmp_path / "dns.db"),
            tracker=FakeTracker(clock),
            queue=RecordingQueue(),
            clock=clock,
            notifications=Notifications(settings, poster=poster),
        )
        file_request(rt)
        settle(rt, clock)
        poster.close()
    (delivered,) = rt.store.recent_notifications(limit=10)
    assert (delivered.state, delivered.attempts) == ("delivered", 4)
    assert lookups == ["hooks.receiver.test"] * 4
    (post,) = receiver.accepted
    assert json.loads(post.body)["type"] == "request.created"


def test_no_body_of_the_run_holds_an_email_or_a_name(
    rt: Runtime, clock: FakeClock, client: FlaskClient, receivers: tuple[Receiver, Receiver]
) -> None:
    number = file_request(rt, title=f"Mail {EMAIL} when done")
    for voter in range(12):
        token = mint(sub=f"user-{voter}", iat=int(clock().timestamp()), email=f"v{voter}@x.io")
        client.post(f"/v1/apps/mobile/requests/{number}/votes", json={"voter_token": token})
    settle(rt, clock)
    bodies = [post.body.decode() for receiver in receivers for post in receiver.posts]
    assert len(bodies) >= 4
    for body in bodies:
        assert "@" not in body
        assert PERSON not in body


def test_voters_moved_from_a_duplicate_pass_the_originals_milestones(
    rt: Runtime,
    clock: FakeClock,
    client: FlaskClient,
    receivers: tuple[Receiver, Receiver],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original, duplicate = file_request(rt, "Dark mode"), file_request(rt, "Night theme")
    for voter in range(8):
        token = mint(sub=f"user-{voter}", iat=int(clock().timestamp()))
        client.post(f"/v1/apps/mobile/requests/{duplicate}/votes", json={"voter_token": token})
    tracker = rt.tracker
    assert isinstance(tracker, FakeTracker)
    monkeypatch.setattr(tracker, "canonical_issue", lambda repo, number: (repo, original))
    marked = rt.store.get_request("mobile", duplicate)
    assert marked is not None
    rt.store.upsert_request(replace(marked, status=Status.DUPLICATE))
    assert merge_duplicate(rt, "mobile", duplicate) == original  # 1 + 9 voters: 10
    settle(rt, clock)
    passed = [
        (e["request"]["number"], e["milestone"])
        for e in events_of(receivers[0])
        if e["type"] == "vote.milestone"
    ]
    assert passed == [(original, 10)]
