"""Email subscribers, follows and suppressed addresses: one contract on SQLite and DynamoDB."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bridge.notify.email.model import Subscriber, request_topic, submission_topic
from bridge.ports import IndexStore
from bridge.stores.dynamodb import DynamoDBStore
from bridge.stores.sqlite import SQLiteStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> IndexStore:
    if request.param == "sqlite":
        return SQLiteStore(tmp_path / "index.db")
    client: DynamoDBClient = request.getfixturevalue("dynamodb_client")
    return DynamoDBStore(request.getfixturevalue("dynamodb_table"), client=client)


def subscriber(
    n: int, *, address: str = "ada@example.com", confirmed: bool = True, app: str = "mobile"
) -> Subscriber:
    return Subscriber(id=f"{n:032x}", app=app, address=address, confirmed=confirmed, created_at=T0)


def test_one_subscriber_per_app_and_address(store: IndexStore) -> None:
    first, created = store.subscribe(subscriber(1), topic=request_topic(1), voter="user:1")
    assert created
    assert first == subscriber(1)
    again, created = store.subscribe(subscriber(2), topic=request_topic(2), voter="user:1")
    assert not created
    assert again.id == first.id
    other_app, created = store.subscribe(
        subscriber(3, app="web"), topic=request_topic(1), voter="user:1"
    )
    assert created
    assert store.get_subscriber(first.id) == first
    assert store.get_subscriber(f"{9:032x}") is None
    assert [s.id for s in store.followers("mobile", [request_topic(1)])] == [first.id]
    assert [s.id for s in store.followers("mobile", [request_topic(2)])] == [first.id]
    assert [s.id for s in store.followers("web", [request_topic(1)])] == [other_app.id]


def test_followers_are_active_once_and_by_topic(store: IndexStore) -> None:
    ada, _ = store.subscribe(subscriber(1), topic=request_topic(7), voter="user:1")
    store.subscribe(subscriber(1), topic=submission_topic("s1"), voter="submission:s1")
    bob, _ = store.subscribe(
        subscriber(2, address="bob@example.com"), topic=request_topic(7), voter="anon:b"
    )
    typed, _ = store.subscribe(
        subscriber(3, address="eve@example.com", confirmed=False),
        topic=request_topic(7),
        voter="anon:e",
    )
    store.subscribe(subscriber(4, address="cy@example.com"), topic=request_topic(70), voter="x")
    both = store.followers("mobile", [request_topic(7), submission_topic("s1")])
    assert [s.id for s in both] == sorted([ada.id, bob.id])
    assert store.followers("mobile", []) == []
    # Confirming the typed address makes it a follower; unsubscribing ends that.
    confirmed = store.confirm_subscriber(typed.id)
    assert confirmed is not None
    assert confirmed.active
    assert typed.id in {s.id for s in store.followers("mobile", [request_topic(7)])}
    gone = store.unsubscribe(typed.id)
    assert gone is not None
    assert not gone.active
    assert typed.id not in {s.id for s in store.followers("mobile", [request_topic(7)])}
    assert store.unsubscribe(f"{9:032x}") is None
    assert store.confirm_subscriber(f"{9:032x}") is None
    # Unfollowing (an unvote) leaves the other topics followed.
    store.unfollow("mobile", request_topic(7), "anon:b")
    assert bob.id not in {s.id for s in store.followers("mobile", [request_topic(7)])}


def test_a_trusted_opt_in_confirms_and_resubscribes_a_typed_one(store: IndexStore) -> None:
    typed, _ = store.subscribe(
        subscriber(1, confirmed=False), topic=request_topic(1), voter="anon:a"
    )
    assert not typed.active
    # Another typed opt-in confirms nothing.
    again, _ = store.subscribe(
        subscriber(2, confirmed=False), topic=request_topic(2), voter="anon:a"
    )
    assert (again.id, again.confirmed) == (typed.id, False)
    store.unsubscribe(typed.id)
    trusted, created = store.subscribe(subscriber(3), topic=request_topic(3), voter="user:1")
    assert not created
    assert (trusted.id, trusted.active) == (typed.id, True)
    # Confirming an unsubscribed address does not subscribe it again.
    store.unsubscribe(typed.id)
    after = store.confirm_subscriber(typed.id)
    assert after is not None
    assert not after.active


def test_a_suppressed_address_follows_nothing_in_any_app(store: IndexStore) -> None:
    store.subscribe(subscriber(1), topic=request_topic(1), voter="user:1")
    store.subscribe(subscriber(2, app="web"), topic=request_topic(1), voter="user:1")
    store.subscribe(subscriber(3, address="bob@example.com"), topic=request_topic(1), voter="b")
    assert not store.is_suppressed("ada@example.com")
    store.suppress_address("ada@example.com", reason="bounce", now=T0)
    store.suppress_address("ada@example.com", reason="complaint", now=T0)
    assert store.is_suppressed("ada@example.com")
    assert not store.is_suppressed("bob@example.com")
    assert [s.address for s in store.followers("mobile", [request_topic(1)])] == ["bob@example.com"]
    assert store.followers("web", [request_topic(1)]) == []


def test_forget_erases_a_subscribers_address(store: IndexStore) -> None:
    ada, _ = store.subscribe(subscriber(1), topic=request_topic(1), voter="user:ada@example.com")
    bob, _ = store.subscribe(
        subscriber(2, address="bob@example.com"), topic=request_topic(1), voter="user:2"
    )
    store.forget_person("ada@example.com")
    forgotten = store.get_subscriber(ada.id)
    assert forgotten is None or "ada@example.com" not in forgotten.address
    assert store.get_subscriber(bob.id) == bob
    assert all("ada@" not in s.address for s in store.followers("mobile", [request_topic(1)]))


def test_a_duplicates_followers_follow_its_original(store: IndexStore) -> None:
    ada, _ = store.subscribe(subscriber(1), topic=request_topic(2), voter="user:1")
    bob, _ = store.subscribe(
        subscriber(2, address="bob@example.com"), topic=submission_topic("s2"), voter="b"
    )
    cy, _ = store.subscribe(
        subscriber(3, address="cy@example.com"), topic=request_topic(9), voter="user:1"
    )
    added = store.copy_follows(
        "mobile", [request_topic(2), submission_topic("s2")], request_topic(9)
    )
    # user:1 already followed #9 (as cy): that follow stays; bob's is new.
    assert added == 1
    assert {s.id for s in store.followers("mobile", [request_topic(9)])} == {cy.id, bob.id}
    assert [s.id for s in store.followers("mobile", [request_topic(2)])] == [ada.id]
    assert store.copy_follows("mobile", [], request_topic(9)) == 0


def test_ended_subscriptions_go_and_live_ones_stay(store: IndexStore) -> None:
    from datetime import timedelta

    live, _ = store.subscribe(subscriber(1), topic=request_topic(1), voter="user:1")
    ended, _ = store.subscribe(
        subscriber(2, address="bob@example.com"), topic=request_topic(1), voter="user:2"
    )
    store.unsubscribe(ended.id)
    unconfirmed, _ = store.subscribe(
        subscriber(3, address="cy@example.com", confirmed=False),
        topic=request_topic(1),
        voter="anon:c",
    )
    # An unconfirmed address still within the retention period stays (it may be confirmed).
    assert store.drop_ended_subscriptions(before=T0) == 1
    assert store.get_subscriber(ended.id) is None
    assert store.get_subscriber(unconfirmed.id) is not None
    assert store.drop_ended_subscriptions(before=T0 + timedelta(days=1)) == 1
    assert store.get_subscriber(unconfirmed.id) is None
    assert store.get_subscriber(live.id) == live
    assert [s.id for s in store.followers("mobile", [request_topic(1)])] == [live.id]
    # The address may subscribe again, as anyone new would.
    again, created = store.subscribe(
        subscriber(4, address="bob@example.com"), topic=request_topic(2), voter="user:2"
    )
    assert created
    assert again.active
    assert store.drop_ended_subscriptions(before=T0 + timedelta(days=1)) == 0
