"""The SQS worker entry (``lambda/worker_entry.py``): jobs, partial batch failures, end to end."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from bridge.app import build_runtime
from bridge.delivery import deliver_job
from bridge.domain import Delivery
from bridge.queues_sqs import SQSJobQueue, encode_job
from bridge.runtime import Runtime
from bridge.settings import Settings
from bridge.stores.sqlite import SQLiteStore
from tests.conftest import CONFIG
from tests.fakes import FakeClock, FakeTracker, submit
from tests.lambda_support import (
    LAMBDA_FIXTURES,
    Entries,
    FakeContext,
    apigw_event,
    entries,  # noqa: F401
    response_json,
    sqs_event,
)
from tests.moto_server import moto_endpoint  # noqa: F401

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


@pytest.fixture
def worker(entries: Entries, runtime: Runtime) -> Callable[..., dict[str, Any]]:  # noqa: F811
    entries.common.use_runtime(runtime)

    def call(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        return entries.worker.handler(event, context or FakeContext())

    return call


def failed_ids(answer: dict[str, Any]) -> list[str]:
    return [item["itemIdentifier"] for item in answer["batchItemFailures"]]


def test_fixture_batch_has_the_shape_lambda_sends(worker: Callable[..., dict[str, Any]]) -> None:
    event = json.loads((LAMBDA_FIXTURES / "sqs_batch.json").read_text("utf-8"))
    # Unknown submissions are nothing to do: both messages succeed.
    assert worker(event) == {"batchItemFailures": []}


def test_delivery_job_delivers(
    worker: Callable[..., dict[str, Any]], runtime: Runtime, tracker: FakeTracker
) -> None:
    sid = submit(runtime)
    answer = worker(sqs_event(encode_job(deliver_job(sid))))
    assert answer == {"batchItemFailures": []}
    assert runtime.store.get_submission(sid).delivery is Delivery.DELIVERED  # type: ignore[union-attr]
    assert len(tracker.issues["acme/mobile"]) == 1


def test_only_the_failed_messages_are_reported(
    worker: Callable[..., dict[str, Any]],
    runtime: Runtime,
    tracker: FakeTracker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    good = submit(runtime, "Good")
    crashing = submit(runtime, "Crashes the tracker")
    event = sqs_event(
        encode_job(deliver_job(good)),
        json.dumps({"v": 1, "kind": "no_such_job", "payload": {}}),
        "this is not JSON",
        json.dumps({"v": 99, "kind": "deliver_submission", "payload": {}}),
        encode_job(deliver_job(crashing)),
    )
    ids = [record["messageId"] for record in event["Records"]]
    original = tracker.create_issue

    def create_issue(draft: Any) -> Any:
        if draft.title == "Crashes the tracker":
            raise RuntimeError("unexpected bug")
        return original(draft)

    tracker.create_issue = create_issue  # type: ignore[method-assign]
    answer = worker(event)
    assert failed_ids(answer) == ids[1:]
    assert runtime.store.get_submission(good).delivery is Delivery.DELIVERED  # type: ignore[union-attr]
    assert "no handler for job kind 'no_such_job'" in caplog.text
    assert "unexpected bug" in caplog.text


def test_a_tracker_failure_is_kept_by_the_outbox_not_the_queue(
    worker: Callable[..., dict[str, Any]],
    runtime: Runtime,
    tracker: FakeTracker,
) -> None:
    from bridge.ports import TrackerError

    sid = submit(runtime)
    tracker.fail_next.append(TrackerError("GitHub answered 502"))
    answer = worker(sqs_event(encode_job(deliver_job(sid))))
    # deliver() recorded the failure and scheduled the next attempt: the message is done.
    assert answer == {"batchItemFailures": []}
    after = runtime.store.get_submission(sid)
    assert after is not None
    assert after.delivery is Delivery.QUEUED
    assert after.next_attempt_at is not None


def test_near_the_timeout_the_rest_of_the_batch_is_handed_back(
    worker: Callable[..., dict[str, Any]], runtime: Runtime, tracker: FakeTracker
) -> None:
    event = sqs_event(*(encode_job(deliver_job(submit(runtime, f"R{n}"))) for n in range(3)))
    answer = worker(event, FakeContext(remaining_ms=5_000))
    assert failed_ids(answer) == [record["messageId"] for record in event["Records"]]
    assert tracker.creates == 0


def test_empty_event(worker: Callable[..., dict[str, Any]]) -> None:
    assert worker({"Records": []}) == {"batchItemFailures": []}


# ------------------------------------------------------------------ HTTP -> SQS -> worker


@pytest.fixture
def sqs_client(moto_endpoint: str) -> SQSClient:  # noqa: F811
    import botocore.session

    client: SQSClient = botocore.session.get_session().create_client(
        "sqs", endpoint_url=moto_endpoint, region_name="us-east-1"
    )
    return client


@pytest.fixture
def queue_url(sqs_client: SQSClient, request: pytest.FixtureRequest) -> Iterator[str]:
    name = f"featurebridge-jobs-{request.node.name[:40]}".replace("[", "-").replace("]", "")
    url = sqs_client.create_queue(QueueName=name)["QueueUrl"]
    yield url
    sqs_client.delete_queue(QueueUrl=url)


def test_submission_travels_from_http_through_sqs_to_the_worker(
    entries: Entries,  # noqa: F811
    make_settings: Callable[..., Settings],
    tmp_path: Path,
    tracker: FakeTracker,
    clock: FakeClock,
    sqs_client: SQSClient,
    queue_url: str,
) -> None:
    # No inline attempt: the submission answers 202 and goes through the queue.
    settings = make_settings(
        CONFIG.replace("inline_delivery_seconds = 2", "inline_delivery_seconds = 0")
    )
    runtime = build_runtime(
        settings,
        store=SQLiteStore(tmp_path / "e2e.db"),
        tracker=tracker,
        queue=SQSJobQueue(queue_url, client=sqs_client),
        clock=clock,
    )
    entries.common.use_runtime(runtime)

    answer = entries.http.handler(apigw_event("submit_json"), FakeContext())
    assert answer["statusCode"] == 202
    sid = response_json(answer)["id"]
    assert tracker.creates == 0

    received = sqs_client.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
    )["Messages"]
    assert len(received) == 1
    event = sqs_event(received[0]["Body"])
    assert entries.worker.handler(event, FakeContext()) == {"batchItemFailures": []}
    sqs_client.delete_message(QueueUrl=queue_url, ReceiptHandle=received[0]["ReceiptHandle"])

    delivered = runtime.store.get_submission(sid)
    assert delivered is not None
    assert delivered.delivery is Delivery.DELIVERED
    listed = entries.http.handler(apigw_event("list_requests"), FakeContext())
    assert [item["title"] for item in response_json(listed)["items"]] == ["Dark mode"]


def test_entry_chooses_sqs_from_the_environment(
    entries: Entries,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    moto_endpoint: str,  # noqa: F811
    sqs_client: SQSClient,
    queue_url: str,
) -> None:
    config = tmp_path / "featurebridge.toml"
    config.write_text(
        '[server]\ninline_delivery_seconds = 0\n[[apps]]\nid = "mobile"\nname = "M"\n'
        'repo = "acme/mobile"\nlabels = ["feature-request"]\npublic = true\n',
        encoding="utf-8",
    )
    for name in ("GITHUB_TOKEN", "GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FEATUREBRIDGE_CONFIG", str(config))
    monkeypatch.setenv("FEATUREBRIDGE_STORE", f"sqlite:///{tmp_path / 'env.db'}")
    monkeypatch.setenv("FEATUREBRIDGE_ENV_FILE", str(tmp_path / "absent.env"))
    monkeypatch.setenv("FEATUREBRIDGE_QUEUE_URL", queue_url)
    # botocore reads the endpoint from the environment, as it would any AWS setting.
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", moto_endpoint)

    answer = entries.http.handler(apigw_event("submit_form"), FakeContext())
    assert answer["statusCode"] == 202
    queue = entries.common.runtime().queue
    assert isinstance(queue, SQSJobQueue)
    assert queue.queue_url == queue_url
    [message] = sqs_client.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1)["Messages"]
    assert json.loads(message["Body"]) == {
        "v": 1,
        "kind": "deliver_submission",
        "payload": {"submission_id": response_json(answer)["id"]},
    }
    health = response_json(entries.http.handler(apigw_event("healthz"), FakeContext()))
    assert health["queue"]["depth"] == 0  # the one message is in flight, not waiting


def test_a_failed_scheduled_run_redriven_from_the_dead_letters_is_passed_over(
    worker: Callable[..., dict[str, Any]],
    runtime: Runtime,
    tracker: FakeTracker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The schedule's failed runs share the jobs' dead-letter queue: a redrive brings
    # their EventBridge events here beside the jobs, and they must not fail again.
    scheduled = (LAMBDA_FIXTURES / "scheduled_event.json").read_text("utf-8")
    sid = submit(runtime)
    event = sqs_event(scheduled, encode_job(deliver_job(sid)))
    assert worker(event) == {"batchItemFailures": []}
    assert runtime.store.get_submission(sid).delivery is Delivery.DELIVERED  # type: ignore[union-attr]
    assert "failed scheduled run: passed over" in caplog.text
    # Anything else from aws.events is still not a job.
    other = json.dumps({**json.loads(scheduled), "detail-type": "EC2 Instance State-change"})
    assert failed_ids(worker(sqs_event(other))) != []
