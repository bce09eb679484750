"""Every domain event on the SNS topic, through moto's server: SNS to an SQS subscription."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from msgspec.structs import replace

from bridge.app import build_runtime, default_notifications
from bridge.notify.service import Notifications
from bridge.notify.sns import SNSPublisher
from bridge.notify.webhooks import SafeWebhookPoster
from bridge.runtime import Runtime
from bridge.settings import Settings
from bridge.stores.sqlite import SQLiteStore
from bridge.sync import sync_all
from tests.fakes import FakeClock, FakeTracker, RecordingQueue
from tests.notify_support import EMAIL, PERSON, file_request, settle

CONFIG = """
[[apps]]
id = "mobile"
name = "Acme Mobile"
repo = "acme/mobile"
labels = ["feature-request", "app:mobile"]
"""


def client(kind: str, endpoint: str) -> Any:
    return botocore.session.get_session().create_client(
        kind, endpoint_url=endpoint, region_name="us-east-1"
    )


@pytest.fixture
def topic_and_queue(moto_endpoint: str) -> tuple[str, str]:
    sns, sqs = client("sns", moto_endpoint), client("sqs", moto_endpoint)
    topic = sns.create_topic(Name="featurebridge-events")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="events-subscriber")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    return topic, queue_url


def received(moto_endpoint: str, queue_url: str) -> list[dict[str, Any]]:
    sqs = client("sqs", moto_endpoint)
    messages: list[dict[str, Any]] = []
    while True:
        answer = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
        batch = answer.get("Messages", [])
        if not batch:
            return messages
        messages.extend(json.loads(message["Body"]) for message in batch)
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(batch)
            ],
        )


def test_every_event_reaches_the_topic_with_app_and_event_attributes(
    make_settings: Callable[..., Settings],
    tmp_path: Path,
    moto_endpoint: str,
    topic_and_queue: tuple[str, str],
) -> None:
    topic, queue_url = topic_and_queue
    settings = make_settings(CONFIG, FEATUREBRIDGE_EVENTS_TOPIC_ARN=topic)
    clock = FakeClock(datetime(2026, 12, 3, 9, 0, tzinfo=UTC))
    tracker = FakeTracker(clock)
    notifications = Notifications(
        settings,
        poster=SafeWebhookPoster(),
        publisher=SNSPublisher(topic, client=client("sns", moto_endpoint)),
    )
    rt: Runtime = build_runtime(
        settings,
        store=SQLiteStore(tmp_path / "index.db"),
        tracker=tracker,
        queue=RecordingQueue(),
        clock=clock,
        notifications=notifications,
    )
    number = file_request(rt)
    issue = tracker.issues["acme/mobile"][0]
    clock.advance(60)
    tracker.issues["acme/mobile"][0] = replace(
        issue, state="closed", state_reason="completed", thumbs_up=30, updated_at=clock()
    )
    sync_all(rt)
    settle(rt, clock)
    messages = received(moto_endpoint, queue_url)
    kinds = sorted(
        (m["MessageAttributes"]["event"]["Value"], json.loads(m["Message"]).get("milestone"))
        for m in messages
    )
    assert kinds == [
        ("request.created", None),
        ("request.status_changed", None),
        ("vote.milestone", 10),
        ("vote.milestone", 25),
    ]
    for message in messages:
        assert message["MessageAttributes"]["app"] == {"Type": "String", "Value": "mobile"}
        body = json.loads(message["Message"])
        assert body["type"] == message["MessageAttributes"]["event"]["Value"]
        assert body["request"]["number"] == number
        assert EMAIL not in message["Message"]
        assert "@" not in message["Message"]
        assert PERSON not in message["Message"]
    delivered = rt.store.recent_notifications(limit=10, state="delivered")
    assert {item.destination for item in delivered} == {"sns"}
    assert len(delivered) == 4


def test_a_topic_that_refuses_is_retried(
    make_settings: Callable[..., Settings], tmp_path: Path, moto_endpoint: str
) -> None:
    missing = "arn:aws:sns:us-east-1:123456789012:no-such-topic"
    settings = make_settings(CONFIG, FEATUREBRIDGE_EVENTS_TOPIC_ARN=missing)
    clock = FakeClock(datetime(2026, 12, 3, 9, 0, tzinfo=UTC))
    publisher = SNSPublisher(missing, client=client("sns", moto_endpoint))
    rt = build_runtime(
        settings,
        store=SQLiteStore(tmp_path / "index.db"),
        tracker=FakeTracker(clock),
        queue=RecordingQueue(),
        clock=clock,
        notifications=Notifications(settings, poster=SafeWebhookPoster(), publisher=publisher),
    )
    file_request(rt)
    settle(rt, clock, within=timedelta(minutes=10))
    (pending,) = rt.store.recent_notifications(limit=10, state="pending")
    assert pending.attempts >= 2
    assert pending.last_error is not None
    assert pending.last_error.startswith("SNS: ")


def test_without_a_topic_or_webhooks_notifications_are_off(
    make_settings: Callable[..., Settings],
) -> None:
    assert default_notifications(make_settings(CONFIG)) is None
    arn = "arn:aws:sns:us-east-1:123456789012:featurebridge-events"
    on = default_notifications(make_settings(CONFIG, FEATUREBRIDGE_EVENTS_TOPIC_ARN=arn))
    assert on is not None
    assert isinstance(on.publisher, SNSPublisher)
    assert on.publisher.topic_arn == arn
