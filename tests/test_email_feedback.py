"""SES bounce and complaint feedback, raw from SNS on the worker's queue: addresses suppressed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bridge.jobs import sync_job
from bridge.notify.email.feedback import feedback_job
from bridge.queues_sqs import encode_job
from bridge.runtime import Runtime
from tests.lambda_support import Entries, FakeContext, entries, sqs_event  # noqa: F401

FIXTURES = Path(__file__).parent / "fixtures" / "ses"


def fixture(name: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads((FIXTURES / name).read_text("utf-8"))
    return value


@pytest.fixture
def worker(entries: Entries, runtime: Runtime) -> Callable[..., dict[str, Any]]:  # noqa: F811
    entries.common.use_runtime(runtime)

    def call(event: dict[str, Any]) -> dict[str, Any]:
        return entries.worker.handler(event, FakeContext())

    return call


def test_bounces_and_complaints_on_the_queue_suppress_their_addresses(
    worker: Callable[..., dict[str, Any]], runtime: Runtime
) -> None:
    bounce = json.dumps(fixture("bounce_event.json"))
    # A subscription without raw delivery wraps the event in SNS's envelope.
    complaint = json.dumps(
        {"Type": "Notification", "Message": json.dumps(fixture("complaint_event.json"))}
    )
    assert worker(sqs_event(bounce, complaint)) == {"batchItemFailures": []}
    assert runtime.store.is_suppressed("gone@example.com")
    assert runtime.store.is_suppressed("angry@example.com")
    assert not runtime.store.is_suppressed("feedback@acme.example")


def test_a_transient_bounce_suppresses_nobody() -> None:
    event = fixture("bounce_event.json")
    event["bounce"]["bounceType"] = "Transient"
    job = feedback_job(json.dumps(event))
    assert job is not None
    assert job.payload["addresses"] == []


@pytest.mark.parametrize(
    "body",
    [
        encode_job(sync_job()),
        '{"eventType": "Delivery", "delivery": {}}',
        '{"eventType": "Bounce", "bounce": "no"}',
        '["eventType"]',
        '{"eventType": ',
    ],
)
def test_other_messages_are_not_feedback(body: str) -> None:
    assert feedback_job(body) is None
