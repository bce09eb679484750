"""Event claims and notification deliveries: the same contract on SQLite and on DynamoDB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from msgspec.structs import replace

from bridge.notify.model import NotificationDelivery
from bridge.ports import IndexStore, OutboxStats
from bridge.stores.dynamodb import DynamoDBStore
from bridge.stores.sqlite import SQLiteStore
from bridge.timeutil import to_sortable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> IndexStore:
    if request.param == "sqlite":
        return SQLiteStore(tmp_path / "index.db")
    client: DynamoDBClient = request.getfixturevalue("dynamodb_client")
    return DynamoDBStore(request.getfixturevalue("dynamodb_table"), client=client)


def delivery(n: int, *, at: datetime = T0, target: str = "webhook:abc") -> NotificationDelivery:
    return NotificationDelivery(
        id=f"{to_sortable(at)}#evt_{n}#{target}",
        event_id=f"evt_{n}",
        app="mobile",
        event="request.created",
        target=target,
        destination="hooks.example.com",
        body=f'{{"id":"evt_{n}"}}',
        created_at=at,
        next_attempt_at=at,
    )


def test_an_event_key_is_claimed_once_until_its_claim_expires(store: IndexStore) -> None:
    later = T0 + timedelta(days=7)
    assert store.claim_event("status:mobile:1:open:completed:x", now=T0, expires_at=later)
    assert not store.claim_event("status:mobile:1:open:completed:x", now=T0, expires_at=later)
    assert store.claim_event("status:mobile:2:open:completed:x", now=T0, expires_at=later)
    assert store.claim_event(
        "status:mobile:1:open:completed:x", now=later, expires_at=later + timedelta(days=7)
    )


def test_a_delivery_is_added_once_and_leased_by_one_attempt(store: IndexStore) -> None:
    first = delivery(1)
    assert store.add_notification(first)
    assert not store.add_notification(first)
    assert store.due_notifications(now=T0, limit=10) == [first.id]
    claimed = store.claim_notification(first.id, now=T0, lease_until=T0 + timedelta(seconds=60))
    assert claimed == replace(first, next_attempt_at=T0 + timedelta(seconds=60))
    assert (
        store.claim_notification(first.id, now=T0, lease_until=T0 + timedelta(seconds=60)) is None
    )
    assert store.due_notifications(now=T0, limit=10) == []
    # A lease that runs out (a worker died mid-attempt) makes it due again.
    after_lease = T0 + timedelta(seconds=61)
    assert store.due_notifications(now=after_lease, limit=10) == [first.id]
    assert store.claim_notification("nope", now=T0, lease_until=T0) is None


def test_an_attempts_outcome_is_kept_and_settled_deliveries_are_never_due(
    store: IndexStore,
) -> None:
    first, second = delivery(1), delivery(2, at=T0 + timedelta(seconds=1))
    store.add_notification(first)
    store.add_notification(second)
    retry_at = T0 + timedelta(minutes=5)
    store.save_notification(
        replace(
            first,
            attempts=1,
            last_error="answered 503",
            last_attempt_at=T0,
            next_attempt_at=retry_at,
        )
    )
    store.save_notification(replace(second, attempts=1, state="delivered", last_attempt_at=T0))
    assert store.due_notifications(now=T0 + timedelta(minutes=1), limit=10) == []
    assert store.due_notifications(now=retry_at, limit=10) == [first.id]
    recent = store.recent_notifications(limit=10)
    assert [item.id for item in recent] == [second.id, first.id]  # newest first
    assert recent[1].last_error == "answered 503"
    assert recent[1].last_attempt_at == T0
    assert recent[0].state == "delivered"
    store.save_notification(replace(recent[1], state="failed", attempts=30))
    assert [item.id for item in store.recent_notifications(limit=10, state="failed")] == [first.id]
    assert store.recent_notifications(limit=10, state="pending") == []
    assert store.due_notifications(now=retry_at, limit=10) == []
    assert [item.id for item in store.recent_notifications(limit=1)] == [second.id]


def test_deliveries_leave_the_submission_outbox_alone(store: IndexStore) -> None:
    store.add_notification(delivery(1))
    assert store.outbox_stats() == OutboxStats(pending=0, oldest_created_at=None)
    assert store.due_submissions(now=T0 + timedelta(days=1), limit=10) == []
