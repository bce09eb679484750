"""The DynamoDB adapter passes the store contract, against moto's server over HTTP."""

from __future__ import annotations

import socket
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.ports import GitHubChanges, ListQuery, StoreError
from bridge.stores import dynamodb, open_store
from bridge.stores.dynamodb import CapacityMeter, DynamoDBStore
from bridge.stores.dynamodb_table import (
    TTL_ATTRIBUTE,
    idempotency_pk,
    ordered_float,
    ordered_int,
)
from tests.moto_server import dynamodb_client, dynamodb_table, moto_endpoint  # noqa: F401
from tests.store_contract import T0, StoreContract, claim, request, submission

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class TestDynamoDBStore(StoreContract):
    @pytest.fixture
    def store(
        self,
        dynamodb_client: DynamoDBClient,  # noqa: F811
        dynamodb_table: str,  # noqa: F811
    ) -> DynamoDBStore:
        return DynamoDBStore(dynamodb_table, client=dynamodb_client)


@pytest.fixture
def store(dynamodb_client: DynamoDBClient, dynamodb_table: str) -> DynamoDBStore:  # noqa: F811
    return DynamoDBStore(dynamodb_table, client=dynamodb_client)


# ---------------------------------------------------------------- expiry


def test_expired_idempotency_key_still_in_the_table_is_absent(
    store: DynamoDBStore,
    dynamodb_client: DynamoDBClient,  # noqa: F811
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
    dynamodb_client: DynamoDBClient,  # noqa: F811
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
    dynamodb_client: DynamoDBClient,  # noqa: F811
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
    }
    ttl = dynamodb_client.describe_time_to_live(TableName=store.table_name)
    assert ttl["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": TTL_ATTRIBUTE,
    }


def test_delivered_submissions_leave_the_due_index(
    store: DynamoDBStore,
    dynamodb_client: DynamoDBClient,  # noqa: F811
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
    dynamodb_client: DynamoDBClient,  # noqa: F811
) -> None:
    with pytest.raises(StoreError, match="create_table"):
        DynamoDBStore("no-such-table", client=dynamodb_client).ping()


def test_endpoint_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
    moto_endpoint: str,  # noqa: F811
    dynamodb_table: str,  # noqa: F811
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", moto_endpoint)
    store = open_store(f"dynamodb://{dynamodb_table}")
    assert isinstance(store, DynamoDBStore)
    store.ping()


def test_capacity_meter_sees_every_call(
    dynamodb_client: DynamoDBClient,  # noqa: F811
    dynamodb_table: str,  # noqa: F811
) -> None:
    meter = CapacityMeter()
    store = DynamoDBStore(dynamodb_table, client=dynamodb_client, capacity=meter)
    store.upsert_request(request(1))
    store.get_request("mobile", 1)
    store.create_submission(submission("s1"), idempotency=claim("k"), now=T0)
    assert meter.calls == {"PutItem": 1, "GetItem": 1, "TransactWriteItems": 1}
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
