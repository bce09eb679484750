"""The DynamoDB adapter passes the store contract, against moto's server over HTTP."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

import pytest
from botocore.exceptions import ClientError
from hypothesis import given
from hypothesis import strategies as st
from msgspec.structs import replace

from bridge.domain import Status, Vote
from bridge.ports import TALLY_INTERVAL, GitHubChanges, ListQuery, StoreError
from bridge.ranking import trend_seed
from bridge.stores import dynamodb, dynamodb_votes, open_store
from bridge.stores.dynamodb import CapacityMeter, DynamoDBStore
from bridge.stores.dynamodb_table import (
    TTL_ATTRIBUTE,
    idempotency_pk,
    ordered_float,
    ordered_int,
)
from tests.outbox_contract import OutboxContract
from tests.review_contract import ReviewContract
from tests.store_contract import T0, StoreContract, claim, request, submission

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class AtomicCalls:
    """A client whose API calls reach moto one at a time.

    DynamoDB makes every call (a transaction included) atomic and isolated;
    moto's server does not under concurrent requests: a cancelled transaction
    rolls back by restoring a copy of the whole table taken when it began,
    erasing writes other threads committed meanwhile (and copying a table
    another thread is writing can fail outright). Serialising the calls gives
    back DynamoDB's guarantee while threads still interleave between calls,
    so read-then-conditional-write races still happen and are retried.
    """

    def __init__(self, client: DynamoDBClient) -> None:
        self._client = client
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return attribute(*args, **kwargs)

        return call


def atomic(client: DynamoDBClient) -> DynamoDBClient:
    return cast("DynamoDBClient", AtomicCalls(client))


class TestDynamoDBStore(StoreContract, ReviewContract, OutboxContract):
    @pytest.fixture
    def store(
        self,
        dynamodb_client: DynamoDBClient,
        dynamodb_table: str,
    ) -> DynamoDBStore:
        return DynamoDBStore(dynamodb_table, client=atomic(dynamodb_client))

    @pytest.fixture
    def stored_text(
        self, dynamodb_client: DynamoDBClient, dynamodb_table: str
    ) -> Callable[[], str]:
        """A full scan of the table, every attribute of every item."""

        def read() -> str:
            pages = dynamodb_client.get_paginator("scan").paginate(TableName=dynamodb_table)
            return json.dumps([item for page in pages for item in page["Items"]])

        return read


@pytest.fixture
def store(dynamodb_client: DynamoDBClient, dynamodb_table: str) -> DynamoDBStore:
    return DynamoDBStore(dynamodb_table, client=dynamodb_client)


# ---------------------------------------------------------------- expiry


def test_expired_idempotency_key_still_in_the_table_is_absent(
    store: DynamoDBStore,
    dynamodb_client: DynamoDBClient,
) -> None:
    # DynamoDB's TTL sweep may take days: the stale item is still there when read.
    key = {"pk": {"S": idempotency_pk("mobile", "k")}, "sk": {"S": "IDEM"}}
    dynamodb_client.put_item(
        TableName=store.table_name,
        Item={
            **key,
            "fingerprint": {"S": "old"},
            "submission_id": {"S": "gone"},
            "expires_at": {"N": str(int(T0.timestamp()) - 1)},
        },
    )
    made, created = store.create_submission(submission("s1"), idempotency=claim("k", "new"), now=T0)
    assert (made.id, created) == ("s1", True)
    held = dynamodb_client.get_item(TableName=store.table_name, Key=key)["Item"]
    assert held["submission_id"] == {"S": "s1"}


def test_expiry_is_whole_seconds_rounded_down(store: DynamoDBStore) -> None:
    expires = T0 + timedelta(seconds=10, microseconds=900_000)
    store.create_submission(submission("s1"), idempotency=claim("k", expires=expires), now=T0)
    at_floor = T0 + timedelta(seconds=10)
    again, created = store.create_submission(
        submission("s2"), idempotency=claim("k", "other"), now=at_floor
    )
    assert (again.id, created) == ("s2", True)


def test_expired_delivery_id_still_in_the_table_is_absent(
    store: DynamoDBStore,
    dynamodb_client: DynamoDBClient,
) -> None:
    dynamodb_client.put_item(
        TableName=store.table_name,
        Item={
            "pk": {"S": "DELIVERY#d1"},
            "sk": {"S": "DELIVERY"},
            "expires_at": {"N": str(int(T0.timestamp()))},
        },
    )
    changes = GitHubChanges(synced=[request(1)])
    assert store.record_github_changes(changes, delivery_id="d1", now=T0)
    assert not store.record_github_changes(changes, delivery_id="d1", now=T0)


def test_changes_beyond_one_transaction_record_the_delivery_last(store: DynamoDBStore) -> None:
    # DynamoDB takes 100 items per transaction: 150 synced requests need two.
    changes = GitHubChanges(synced=[request(number) for number in range(1, 151)])
    assert store.record_github_changes(changes, delivery_id="sync-1", now=T0)
    assert not store.record_github_changes(changes, delivery_id="sync-1", now=T0)
    whole = store.list_requests(ListQuery(app="mobile", limit=100))
    rest = store.list_requests(ListQuery(app="mobile", limit=100, cursor=whole.next_cursor))
    assert len(whole.items) + len(rest.items) == 150


# ---------------------------------------------------------------- table and client


def test_table_definition(
    store: DynamoDBStore,
    dynamodb_client: DynamoDBClient,
) -> None:
    table = dynamodb_client.describe_table(TableName=store.table_name)["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert [(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]] == [
        ("pk", "HASH"),
        ("sk", "RANGE"),
    ]
    indexes = {
        index["IndexName"]: (
            tuple(k["AttributeName"] for k in index["KeySchema"]),
            index["Projection"]["ProjectionType"],
        )
        for index in table["GlobalSecondaryIndexes"]
    }
    assert indexes == {
        "top": (("pk", "top_key"), "ALL"),
        "new": (("pk", "new_key"), "ALL"),
        "trending": (("pk", "trend_key"), "ALL"),
        "status_top": (("status_pk", "top_key"), "ALL"),
        "status_new": (("status_pk", "new_key"), "ALL"),
        "status_trending": (("status_pk", "trend_key"), "ALL"),
        "due": (("due_pk", "due_key"), "INCLUDE"),
        "tally": (("tally_due_pk", "tally_due_key"), "KEYS_ONLY"),
    }
    ttl = dynamodb_client.describe_time_to_live(TableName=store.table_name)
    assert ttl["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": TTL_ATTRIBUTE,
    }


def test_delivered_submissions_leave_the_due_index(
    store: DynamoDBStore,
    dynamodb_client: DynamoDBClient,
) -> None:
    store.create_submission(submission("s1"), idempotency=None, now=T0)
    store.create_submission(submission("s2"), idempotency=None, now=T0)
    store.mark_delivered("s1", request(7))

    def due_index() -> list[str]:
        scanned = dynamodb_client.scan(TableName=store.table_name, IndexName="due")
        return sorted(item["pk"]["S"] for item in scanned["Items"])

    assert due_index() == ["SUB#s2"]


def test_unreachable_endpoint_is_a_store_error() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    store = DynamoDBStore("index", endpoint_url=f"http://127.0.0.1:{port}")
    with pytest.raises(StoreError, match="GetItem"):
        store.ping()


def test_missing_table_is_a_store_error_naming_the_fix(
    dynamodb_client: DynamoDBClient,
) -> None:
    with pytest.raises(StoreError, match="create_table"):
        DynamoDBStore("no-such-table", client=dynamodb_client).ping()


def test_endpoint_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
    moto_endpoint: str,
    dynamodb_table: str,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", moto_endpoint)
    store = open_store(f"dynamodb://{dynamodb_table}")
    assert isinstance(store, DynamoDBStore)
    store.ping()


def test_capacity_meter_sees_every_call(
    dynamodb_client: DynamoDBClient,
    dynamodb_table: str,
) -> None:
    meter = CapacityMeter()
    store = DynamoDBStore(dynamodb_table, client=dynamodb_client, capacity=meter)
    store.upsert_request(request(1))
    store.get_request("mobile", 1)
    store.create_submission(submission("s1"), idempotency=claim("k"), now=T0)
    assert meter.calls == {"UpdateItem": 1, "GetItem": 1, "TransactWriteItems": 1}
    calls, read, write = meter.totals()
    assert calls == 3
    assert read > 0  # moto reports fixed placeholder units; AWS reports real ones
    assert write > 0
    meter.reset()
    assert meter.totals() == (0, 0.0, 0.0)


# ---------------------------------------------------------------- listings


def test_word_filter_reads_a_bounded_number_of_items_per_page(
    store: DynamoDBStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dynamodb, "MAX_EVALUATED", 10)
    for number in range(1, 31):
        title = "Zebra stripes" if number in {3, 17} else f"Request {number}"
        store.upsert_request(request(number, votes=number, title=title))
    found: list[int] = []
    pages = 0
    cursor = None
    while True:
        page = store.list_requests(ListQuery(app="mobile", words=("zebra",), cursor=cursor))
        found.extend(r.number for r in page.items)
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert found == [17, 3]
    assert pages >= 3  # short pages, each within the budget, with a cursor to go on


@given(st.floats(allow_nan=False), st.floats(allow_nan=False))
def test_float_keys_sort_like_floats(a: float, b: float) -> None:
    if a < b:
        assert ordered_float(a) < ordered_float(b)
    elif a == b and str(a) == str(b):
        assert ordered_float(a) == ordered_float(b)


@given(st.integers(-(10**15) + 1, 9 * 10**15 - 1), st.integers(-(10**15) + 1, 9 * 10**15 - 1))
def test_int_keys_sort_like_ints(a: int, b: int) -> None:
    assert (ordered_int(a) < ordered_int(b)) == (a < b)
    assert len(ordered_int(a)) == 16


# ---------------------------------------------------------------- votes and tallies


def tally_index(client: DynamoDBClient, table: str) -> list[str]:
    scanned = client.scan(TableName=table, IndexName="tally")
    return sorted(item["sk"]["S"] for item in scanned["Items"])


def test_votes_are_in_no_listing_index(
    store: DynamoDBStore,
    dynamodb_client: DynamoDBClient,
) -> None:
    store.upsert_request(request(1))
    store.add_vote(Vote("mobile", 1, "user-1", T0))
    for index in ("top", "new", "trending", "status_top", "due"):
        scanned = dynamodb_client.scan(TableName=store.table_name, IndexName=index)
        assert all(not item["sk"]["S"].startswith("VOTE#") for item in scanned["Items"])
    page = store.list_requests(ListQuery(app="mobile"))
    assert [r.number for r in page.items] == [1]


@pytest.mark.parametrize("trend", [1 / 3, 0.1 + 0.2, 5e-324, -64.0, 6870.123456789012])
def test_trend_round_trips_exactly(store: DynamoDBStore, trend: float) -> None:
    store.upsert_request(replace(request(1), trend=trend))
    loaded = store.get_request("mobile", 1)
    assert loaded is not None
    assert loaded.trend == trend


def test_vote_keys_follow_the_counters(
    store: DynamoDBStore,
    dynamodb_client: DynamoDBClient,
) -> None:
    store.upsert_request(replace(request(1, votes=2), trend=trend_seed(T0)))
    store.upsert_request(replace(request(2, votes=3), trend=trend_seed(T0)))
    for voter in ("a", "b"):
        store.add_vote(Vote("mobile", 1, voter, T0 + timedelta(days=2)))
    item = dynamodb_client.get_item(
        TableName=store.table_name, Key={"pk": {"S": "APP#mobile"}, "sk": {"S": "REQ#0000000001"}}
    )["Item"]
    loaded = store.get_request("mobile", 1)
    assert loaded is not None
    assert item["total_votes"] == {"N": str(loaded.total_votes)} == {"N": "5"}
    assert item["top_key"]["S"] == ordered_int(5) + "#0000000001"
    assert item["trend_key"]["S"] == ordered_float(loaded.trend) + "#0000000001"
    top = store.list_requests(ListQuery(app="mobile"))
    assert [r.number for r in top.items] == [1, 2]
    store.remove_vote("mobile", 1, "a", now=T0)
    store.remove_vote("mobile", 1, "b", now=T0)
    after = store.get_request("mobile", 1)
    assert after is not None
    assert after.trend == pytest.approx(trend_seed(T0))
    assert [r.number for r in store.list_requests(ListQuery(app="mobile")).items] == [2, 1]


def test_a_transaction_conflict_is_retried(
    dynamodb_client: DynamoDBClient,
    dynamodb_table: str,
) -> None:
    conflicts = [2]  # DynamoDB cancels transactions that race on an item

    class Conflicting(AtomicCalls):
        def transact_write_items(self, **kwargs: Any) -> Any:
            if conflicts[0]:
                conflicts[0] -= 1
                reasons = [{"Code": "None"}, {"Code": "TransactionConflict"}]
                raise ClientError(
                    {
                        "Error": {"Code": "TransactionCanceledException", "Message": "conflict"},
                        "CancellationReasons": reasons,
                    },
                    "TransactWriteItems",
                )
            return self._client.transact_write_items(**kwargs)

    client = cast("DynamoDBClient", Conflicting(dynamodb_client))
    store = DynamoDBStore(dynamodb_table, client=client)
    store.upsert_request(request(1))
    result = store.add_vote(Vote("mobile", 1, "user-1", T0))
    assert result is not None
    assert result[1]
    assert result[0].bridge_votes == 2
    assert conflicts == [0]


def interleave(
    monkeypatch: pytest.MonkeyPatch, store: DynamoDBStore, method: str, race: Any
) -> None:
    """Run ``race()`` once, right after the store's next ``method`` read."""
    read = getattr(store._table, method)
    pending = [race]

    def read_then_race(*args: Any, **kwargs: Any) -> Any:
        found = read(*args, **kwargs)
        if pending:
            pending.pop()()
        return found

    monkeypatch.setattr(store._table, method, read_then_race)


def test_a_vote_racing_another_is_retried(
    store: DynamoDBStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.upsert_request(request(1))
    interleave(monkeypatch, store, "get", lambda: store.add_vote(Vote("mobile", 1, "racer", T0)))
    result = store.add_vote(Vote("mobile", 1, "user-1", T0))
    assert result is not None
    assert result[0].bridge_votes == 3
    loaded = store.get_request("mobile", 1)
    assert loaded is not None
    assert (loaded.bridge_votes, loaded.weighted_votes, loaded.total_votes) == (3, 3, 3)


def test_a_vote_racing_a_sync_is_kept(
    store: DynamoDBStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.upsert_request(request(1))
    interleave(
        monkeypatch, store, "batch_get", lambda: store.add_vote(Vote("mobile", 1, "racer", T0))
    )
    from_github = replace(request(1, votes=5, title="Renamed"), bridge_votes=0)
    store.record_github_changes(GitHubChanges(synced=[from_github]), delivery_id=None, now=T0)
    loaded = store.get_request("mobile", 1)
    assert loaded is not None
    assert (loaded.title, loaded.bridge_votes, loaded.total_votes) == ("Renamed", 2, 7)
    item = store._table.get({"pk": {"S": "APP#mobile"}, "sk": {"S": "REQ#0000000001"}})
    assert item is not None
    assert item["top_key"]["S"] == ordered_int(7) + "#0000000001"  # counts the racer's vote
    assert store.due_tallies(now=T0, limit=5) != []


def test_tally_index_holds_only_requests_behind(
    store: DynamoDBStore,
    dynamodb_client: DynamoDBClient,
) -> None:
    store.upsert_request(request(1))
    store.upsert_request(request(2))
    assert tally_index(dynamodb_client, store.table_name) == []
    store.add_vote(Vote("mobile", 1, "a", T0))
    assert tally_index(dynamodb_client, store.table_name) == ["REQ#0000000001"]
    [due] = store.due_tallies(now=T0, limit=10)
    store.add_vote(Vote("mobile", 1, "b", T0))  # while the tally is written
    store.record_tally("mobile", 1, version=due.version, now=T0)
    assert tally_index(dynamodb_client, store.table_name) == ["REQ#0000000001"]
    [later] = store.due_tallies(now=T0 + TALLY_INTERVAL, limit=10)
    assert later.version == due.version + 1
    # GitHub's changes keep the pending tally, as upserts do.
    store.record_github_changes(
        GitHubChanges(synced=[request(1, votes=4, title="Renamed")]), delivery_id=None, now=T0
    )
    assert store.due_tallies(now=T0 + TALLY_INTERVAL, limit=10) == [later]
    store.record_tally("mobile", 1, version=later.version, now=T0 + TALLY_INTERVAL)
    assert tally_index(dynamodb_client, store.table_name) == []
    store.record_tally("mobile", 99, version=1, now=T0)  # gone: nothing to record


def test_due_tallies_pages_through_the_index(store: DynamoDBStore) -> None:
    for number in range(1, 6):
        store.upsert_request(request(number))
        store.add_vote(Vote("mobile", number, "a", T0))
    first = store.due_tallies(now=T0, limit=3)
    assert [d.number for d in first] == [1, 2, 3]
    for due in first:
        store.record_tally("mobile", due.number, version=due.version, now=T0)
    assert [d.number for d in store.due_tallies(now=T0, limit=3)] == [4, 5]


def test_move_beyond_one_transaction(
    store: DynamoDBStore,
    dynamodb_client: DynamoDBClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(dynamodb_votes, "MOVE_CHUNK", 4)
    meter = CapacityMeter()
    store = DynamoDBStore(store.table_name, client=dynamodb_client, capacity=meter)
    store.upsert_request(replace(request(1), bridge_votes=0, weighted_votes=0))
    store.upsert_request(replace(request(2), bridge_votes=0, weighted_votes=0))
    for n in range(10):
        store.add_vote(Vote("mobile", 1, f"v{n}", T0, weight=n + 1))
    for n in (0, 5, 11):
        store.add_vote(Vote("mobile", 2, f"v{n}", T0))
    meter.reset()
    assert store.move_votes("mobile", 1, 2, now=T0) == 8
    assert meter.calls["TransactWriteItems"] == 3  # 4 + 4 + 2 votes
    source, target = store.get_request("mobile", 1), store.get_request("mobile", 2)
    assert source is not None
    assert target is not None
    assert (source.bridge_votes, source.weighted_votes) == (0, 0)
    moved_weight = sum(n + 1 for n in range(10) if n not in (0, 5))
    assert (target.bridge_votes, target.weighted_votes) == (11, 3 + moved_weight)
    voters = [f"v{n}" for n in range(12)]
    assert all(store.voted("mobile", voter, [1]) == frozenset() for voter in voters)
    assert store.move_votes("mobile", 1, 1, now=T0) == 0
    scanned = dynamodb_client.scan(TableName=store.table_name)["Items"]
    on_target = [item for item in scanned if item["sk"]["S"].startswith("VOTE#0000000002#")]
    assert len(on_target) == 11
    # A moved vote keeps its weight: taking it back moves the counters by it.
    removed = store.remove_vote("mobile", 2, "v9", now=T0)
    assert removed is not None
    assert removed[0].weighted_votes == target.weighted_votes - 10


def test_repeated_delivery_keeps_one_submitter_vote(store: DynamoDBStore) -> None:
    store.create_submission(
        replace(submission("s1"), voter="user-9", voter_weight=4), idempotency=None, now=T0
    )
    delivered = replace(request(1), bridge_votes=1, weighted_votes=4)
    store.mark_delivered("s1", delivered)
    store.add_vote(Vote("mobile", 1, "user-1", T0))
    store.record_tally("mobile", 1, version=0, now=T0)
    store.mark_delivered("s1", delivered)  # a retry after an unknown outcome
    assert store.voted("mobile", "user-9", [1]) == {1}
    loaded = store.get_submission("s1")
    assert loaded is not None
    assert loaded.voter_weight == 4
    assert store.due_tallies(now=T0 + TALLY_INTERVAL, limit=5) != []  # kept by the delivery


def test_voted_is_one_batch_read(
    dynamodb_client: DynamoDBClient,
    dynamodb_table: str,
) -> None:
    meter = CapacityMeter()
    store = DynamoDBStore(dynamodb_table, client=dynamodb_client, capacity=meter)
    store.upsert_request(request(3))
    store.add_vote(Vote("mobile", 3, "user-1", T0))
    meter.reset()
    assert store.voted("mobile", "user-1", list(range(1, 21))) == {3}
    assert meter.calls == {"BatchGetItem": 1}


def test_export_with_filters_reads_a_bounded_number_of_items_per_page(
    store: DynamoDBStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dynamodb, "MAX_EVALUATED", 5)
    for number in range(1, 13):
        status = Status.PLANNED if number in {2, 11} else Status.OPEN
        store.upsert_request(request(number, status=status))
        store.add_vote(Vote("mobile", number, "a", T0))  # votes share the partition
    store.upsert_request(request(1, app="web", status=Status.PLANNED))
    found: list[tuple[str, int]] = []
    pages = 0
    cursor = None
    while True:
        page = store.export_rows(
            apps=["web", "mobile"],
            status=Status.PLANNED,
            updated_since=None,
            limit=10,
            cursor=cursor,
        )
        found.extend((r.app, r.number) for r in page.rows)
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert found == [("mobile", 2), ("mobile", 11), ("web", 1)]
    assert pages >= 3


# ---------------------------------------------------------------- descriptions and search


def _item(client: DynamoDBClient, table: str, sk: str) -> dict[str, Any] | None:
    key = {"pk": {"S": "APP#mobile"}, "sk": {"S": sk}}
    return client.get_item(TableName=table, Key=key).get("Item")


def test_description_lives_apart_from_the_request_and_votes_leave_it(
    store: DynamoDBStore, dynamodb_client: DynamoDBClient
) -> None:
    store.create_submission(submission("s1"), idempotency=None, now=T0)
    store.mark_delivered("s1", replace(request(1), description="a long text"))
    text = _item(dynamodb_client, store.table_name, "TEXT#0000000001")
    assert text is not None
    assert text["description"] == {"S": "a long text"}
    held = _item(dynamodb_client, store.table_name, "REQ#0000000001")
    assert held is not None
    assert "description" not in held
    store.add_vote(Vote("mobile", 1, "u2", T0))
    assert _item(dynamodb_client, store.table_name, "TEXT#0000000001") == text
    edited = replace(request(1), description="edited on GitHub")
    store.record_github_changes(GitHubChanges(synced=[edited]), delivery_id=None, now=T0)
    text = _item(dynamodb_client, store.table_name, "TEXT#0000000001")
    assert text is not None
    assert text["description"] == {"S": "edited on GitHub"}
    store.record_github_changes(GitHubChanges(removed=[("mobile", 1)]), delivery_id=None, now=T0)
    assert _item(dynamodb_client, store.table_name, "TEXT#0000000001") is None


def test_search_is_the_basic_title_match(store: DynamoDBStore) -> None:
    assert store.similar_mode() == "basic"
    store.upsert_request(request(1, title="Tags for notes"))
    assert [m.request.number for m in store.similar("mobile", "tag", "")] == [1]
