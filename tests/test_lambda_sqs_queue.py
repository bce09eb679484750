"""``bridge.queues_sqs.SQSJobQueue`` against moto's SQS server, and its message format."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from bridge.delivery import deliver_job
from bridge.ports import Job
from bridge.queues_sqs import JobFormatError, SQSJobQueue, decode_job, encode_job
from tests.moto_server import moto_endpoint  # noqa: F401

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


@pytest.fixture
def sqs_client(moto_endpoint: str) -> SQSClient:  # noqa: F811
    import botocore.session

    client: SQSClient = botocore.session.get_session().create_client(
        "sqs", endpoint_url=moto_endpoint, region_name="us-east-1"
    )
    return client


@pytest.fixture
def queue_url(sqs_client: SQSClient, request: pytest.FixtureRequest) -> Iterator[str]:
    url = sqs_client.create_queue(QueueName=f"fb-queue-test-{request.node.name[:50]}")["QueueUrl"]
    yield url
    sqs_client.delete_queue(QueueUrl=url)


class Ticker:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# ------------------------------------------------------------------ message format


def test_jobs_round_trip_through_their_message_body() -> None:
    job = Job("deliver_submission", {"submission_id": "abc", "note": "été 🌙"})
    body = encode_job(job)
    assert json.loads(body) == {"v": 1, "kind": job.kind, "payload": job.payload}
    assert decode_job(body) == job


@pytest.mark.parametrize(
    "body",
    [
        "",
        "not json",
        "[]",
        '{"kind": "deliver_submission", "payload": {}}',
        '{"v": 2, "kind": "deliver_submission", "payload": {}}',
        '{"v": 1, "kind": "", "payload": {}}',
        '{"v": 1, "kind": "x", "payload": []}',
    ],
)
def test_messages_that_are_not_jobs_are_refused(body: str) -> None:
    with pytest.raises(JobFormatError):
        decode_job(body)


def test_a_job_too_large_for_sqs_is_refused() -> None:
    with pytest.raises(JobFormatError):
        encode_job(Job("huge", {"blob": "x" * (256 * 1024)}))


def test_queue_url_is_checked() -> None:
    with pytest.raises(ValueError, match="not an SQS queue URL"):
        SQSJobQueue("featurebridge-jobs")


# ------------------------------------------------------------------ over moto


def test_enqueued_jobs_arrive(sqs_client: SQSClient, queue_url: str) -> None:
    queue = SQSJobQueue(queue_url, client=sqs_client)
    queue.enqueue(deliver_job("s1"))
    queue.enqueue(deliver_job("s2"))
    received = sqs_client.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    assert sorted(decode_job(m["Body"]).payload["submission_id"] for m in received) == ["s1", "s2"]


def test_depth_counts_waiting_messages_and_is_cached(sqs_client: SQSClient, queue_url: str) -> None:
    ticker = Ticker()
    queue = SQSJobQueue(queue_url, client=sqs_client, depth_ttl=10, monotonic=ticker)
    assert queue.depth() == 0
    queue.enqueue(deliver_job("s1"))
    queue.enqueue(deliver_job("s2"))
    assert queue.depth() == 0  # cached for depth_ttl seconds
    ticker.now += 11
    assert queue.depth() == 2


def test_a_failed_send_is_logged_not_raised(
    sqs_client: SQSClient, queue_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    queue = SQSJobQueue(queue_url + "-missing", client=sqs_client)
    queue.enqueue(deliver_job("s1"))  # the submission is in the outbox; the sweep finds it
    assert "could not enqueue deliver_submission job" in caplog.text
    assert queue.depth() is None


def test_default_client_is_built_once_from_the_environment(
    queue_url: str,
    moto_endpoint: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    sqs_client: SQSClient,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", moto_endpoint)
    queue = SQSJobQueue(queue_url)
    queue.enqueue(deliver_job("from-env"))
    assert queue.client() is queue.client()
    [message] = sqs_client.receive_message(QueueUrl=queue_url)["Messages"]
    assert decode_job(message["Body"]) == deliver_job("from-env")


def test_a_delayed_job_arrives_only_after_its_delay(sqs_client: SQSClient, queue_url: str) -> None:
    import time

    queue = SQSJobQueue(queue_url, client=sqs_client)
    queue.enqueue(deliver_job("later"), delay_seconds=1.2)
    assert sqs_client.receive_message(QueueUrl=queue_url).get("Messages", []) == []
    time.sleep(2.1)
    [message] = sqs_client.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1)["Messages"]
    assert decode_job(message["Body"]).payload == {"submission_id": "later"}


def test_delays_beyond_sqs_ceiling_are_capped() -> None:
    import botocore.session
    from botocore.stub import ANY, Stubber

    client = botocore.session.get_session().create_client("sqs", region_name="us-east-1")
    url = "https://sqs.us-east-1.amazonaws.com/123456789012/jobs"
    with Stubber(client) as stubber:
        stubber.add_response(
            "send_message",
            {"MessageId": "m1", "MD5OfMessageBody": "0" * 32},
            {"QueueUrl": url, "MessageBody": ANY, "DelaySeconds": 900},
        )
        SQSJobQueue(url, client=client).enqueue(deliver_job("s1"), delay_seconds=4000)
        stubber.assert_no_pending_responses()
