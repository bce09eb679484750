"""SES v2's answers as delivery outcomes: throttling retried, a refusal stops for that address."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.stub import Stubber
from msgspec.structs import replace

from bridge.app import build_runtime, default_notifications
from bridge.domain import Status
from bridge.notify.email.config import EmailSettings
from bridge.notify.email.model import Subscriber, request_topic
from bridge.notify.email.sending import EmailNotifier
from bridge.notify.email.ses import SESSender
from bridge.notify.emit import announce
from bridge.notify.events import change_events
from bridge.notify.model import AddressRefusedError, DeliveryError
from bridge.runtime import Runtime
from bridge.settings import Settings
from bridge.stores.sqlite import SQLiteStore
from tests.conftest import CONFIG
from tests.email_support import EMAIL_CONFIG, SENDER
from tests.fakes import FakeClock, FakeTracker, RecordingQueue, indexed
from tests.notify_support import settle

SETTINGS = EmailSettings(sender=SENDER, configuration_set="featurebridge", region="us-east-1")


def stubbed() -> tuple[SESSender, Stubber]:
    client = botocore.session.get_session().create_client("sesv2", region_name="us-east-1")
    return SESSender(SETTINGS, client=client), Stubber(client)


def test_a_raw_message_goes_with_the_configuration_set() -> None:
    sender, stub = stubbed()
    stub.add_response(
        "send_email",
        {"MessageId": "m-1"},
        {
            "FromEmailAddress": SENDER,
            "Destination": {"ToAddresses": ["ada@example.com"]},
            "Content": {"Raw": {"Data": b"raw"}},
            "ConfigurationSetName": "featurebridge",
        },
    )
    with stub:
        assert sender.send(to="ada@example.com", raw=b"raw") == "m-1"


@pytest.mark.parametrize(
    ("code", "refused"),
    [
        ("TooManyRequestsException", False),
        ("LimitExceededException", False),
        ("SendingPausedException", False),
        ("MessageRejected", True),
        ("BadRequestException", True),
    ],
)
def test_errors_say_whether_to_try_again(code: str, refused: bool) -> None:
    sender, stub = stubbed()
    stub.add_client_error("send_email", service_error_code=code, service_message="refused")
    with stub, pytest.raises(DeliveryError) as raised:
        sender.send(to="ada@example.com", raw=b"raw")
    assert isinstance(raised.value, AddressRefusedError) is refused
    assert "ada@example.com" not in str(raised.value)


class Scripted:
    """A mail sender answering with the errors it is given, then taking every message."""

    def __init__(self, *errors: DeliveryError) -> None:
        self.errors = list(errors)
        self.sent: list[str] = []

    def send(self, *, to: str, raw: bytes) -> str:
        if self.errors:
            raise self.errors.pop(0)
        self.sent.append(to)
        return "m"


def runtime_with(
    make_settings: Callable[..., Settings], tmp_path: Path, sender: Any
) -> tuple[Runtime, FakeClock]:
    settings = make_settings(CONFIG + EMAIL_CONFIG)
    clock = FakeClock(datetime(2026, 12, 3, 9, 0, tzinfo=UTC))
    store = SQLiteStore(tmp_path / "index.db")
    email = EmailNotifier(settings, store=store, key=lambda: b"k" * 32, sender=sender)
    rt = build_runtime(
        settings,
        store=store,
        tracker=FakeTracker(clock),
        queue=RecordingQueue(),
        clock=clock,
        notifications=default_notifications(settings, email=email),
    )
    store.upsert_request(indexed(5, "Dark mode"))
    store.subscribe(
        Subscriber(
            id="a" * 32, app="mobile", address="ada@example.com", confirmed=True, created_at=clock()
        ),
        topic=request_topic(5),
        voter="user:1",
    )
    return rt, clock


def ship(rt: Runtime) -> None:
    before = rt.store.get_request("mobile", 5)
    assert before is not None
    after = replace(before, status=Status.COMPLETED)
    announce(rt, change_events(before, after, rt.clock()))


def test_throttling_is_retried_until_ses_takes_the_message(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    sender = Scripted(DeliveryError("SES throttled", retry_after=60), DeliveryError("SES: x"))
    rt, clock = runtime_with(make_settings, tmp_path, sender)
    ship(rt)
    settle(rt, clock)
    assert sender.sent == ["ada@example.com"]
    (delivery,) = rt.store.recent_notifications(limit=5)
    assert (delivery.state, delivery.attempts) == ("delivered", 3)


def test_a_refused_address_is_never_tried_again(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    sender = Scripted(AddressRefusedError("SES refused the message (MessageRejected)"))
    rt, clock = runtime_with(make_settings, tmp_path, sender)
    ship(rt)
    settle(rt, clock)
    (delivery,) = rt.store.recent_notifications(limit=5)
    assert (delivery.state, delivery.attempts) == ("failed", 1)
    assert rt.store.is_suppressed("ada@example.com")
    assert rt.store.followers("mobile", [request_topic(5)]) == []
    assert sender.sent == []
