"""What each index-store use case costs: DynamoDB capacity units and SQLite statements.

    .venv/bin/python bench/store.py

Starts moto's DynamoDB server on loopback, runs a submission (create with an
Idempotency-Key, claim, mark delivered), listing pages, a read, votes (vote,
repeat, ``voted`` for a page, unvote, a duplicate's votes merged), the tally
sweep, a rate-limit hit and the outbox sweep, and prints per operation:

* the DynamoDB API calls the adapter made;
* the capacity units the service reported (``ReturnConsumedCapacity=TOTAL``,
  gathered by the adapter's ``CapacityMeter``). moto reports fixed
  placeholders (PutItem and Query 1, GetItem 0.5, UpdateItem and transactions
  nothing); against AWS the same hook reports what is billed;
* an estimate of what AWS would bill, from DynamoDB's published rules applied
  to the items involved: writes 1 WCU per KB per item plus one write per
  secondary index the item is in (two when its index key changes),
  transactional writes twice; reads 1 RCU per 4 KB (half when eventually
  consistent), queries summed over the items read before any filter;
* the SQL statements the SQLite adapter runs for the same operation
  (``BEGIN``/``COMMIT`` included).
"""

from __future__ import annotations

import math
import re
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from msgspec.structs import replace

from bridge.domain import Hold, SortOrder, Status, Vote
from bridge.ports import (
    TALLY_INTERVAL,
    IdempotencyClaim,
    IndexStore,
    ListQuery,
    RateHit,
    RepeatCheck,
)
from bridge.stores.dynamodb import CapacityMeter, DynamoDBStore
from bridge.stores.dynamodb_client import names
from bridge.stores.dynamodb_table import create_table, table_definition
from bridge.stores.sqlite import SQLiteStore
from tests.moto_server import aws_test_env, make_client, running_moto
from tests.store_contract import T0, request, submission

TABLE = "featurebridge-bench"
SEED_REQUESTS = 120
WORDS = ("dark", "mode", "export", "sync", "widget", "search")
MOVE_SOURCE, MOVE_TARGET, MOVED_VOTES = 11, 12, 5


# --------------------------------------------------------------------------- AWS estimate


def item_size(item: dict[str, Any]) -> int:
    """Bytes DynamoDB bills for an item: attribute names plus values."""
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def value_size(value: dict[str, Any]) -> int:
    (kind, raw), *_ = value.items()
    if kind == "S":
        return len(raw.encode())
    if kind == "N":
        return math.ceil(len(raw.lstrip("-").replace(".", "")) / 2) + 1
    if kind in {"BOOL", "NULL"}:
        return 1
    if kind == "L":
        return 3 + sum(value_size(element) + 1 for element in raw)
    if kind == "M":
        return 3 + sum(len(k.encode()) + value_size(v) + 1 for k, v in raw.items())
    return len(str(raw))


@dataclass
class Estimate:
    read: float = 0.0
    write: float = 0.0


@dataclass
class Index:
    name: str
    keys: tuple[str, str]
    projection: tuple[str, ...] | None  # None: ALL


def indexes() -> list[Index]:
    found = []
    for gsi in table_definition(TABLE)["GlobalSecondaryIndexes"]:
        keys = tuple(k["AttributeName"] for k in gsi["KeySchema"])
        projection = gsi["Projection"]
        extra = None
        if projection["ProjectionType"] != "ALL":
            extra = ("pk", "sk", *keys, *projection.get("NonKeyAttributes", ()))
        found.append(Index(gsi["IndexName"], (keys[0], keys[1]), extra))
    return found


def write_units(before: dict | None, after: dict | None, *, transactional: bool) -> float:
    """WCU of one item write: the table, then each index the item enters, leaves or changes in."""
    base = math.ceil(max(item_size(before or {}), item_size(after or {}), 1) / 1024)
    units = float(base * (2 if transactional else 1))
    for index in INDEXES:

        def entry(item: dict | None, index: Index = index) -> dict | None:
            if item is None or not all(k in item for k in index.keys):
                return None
            if index.projection is None:
                return item
            return {k: v for k, v in item.items() if k in index.projection}

        old, new = entry(before), entry(after)
        if old == new:
            continue
        changed_key = old and new and any(old[k] != new[k] for k in index.keys)
        for image in (old, new) if changed_key else (new or old,):
            units += math.ceil(item_size(image) / 1024)
    return units


def read_units(total_bytes: int, *, consistent: bool) -> float:
    return max(1, math.ceil(total_bytes / 4096)) * (1.0 if consistent else 0.5)


class EstimatingClient:
    """Wraps the botocore client: passes every call through and estimates its bill."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.estimate = Estimate()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def _item(self, key: dict) -> dict | None:
        return self._client.get_item(TableName=TABLE, Key=key, ConsistentRead=True).get("Item")

    def _keyed(self, item: dict) -> dict:
        return {"pk": item["pk"], "sk": item["sk"]}

    def _write(self, call: Callable[[], Any], keys: list[dict], transactional: bool) -> Any:
        before = [self._item(key) for key in keys]
        try:
            return call()
        finally:  # a failed condition still bills the table write (old == new then)
            after = [self._item(key) for key in keys]
            for old, new in zip(before, after, strict=True):
                self.estimate.write += write_units(old, new, transactional=transactional)

    def put_item(self, **kwargs: Any) -> Any:
        keys = [self._keyed(kwargs["Item"])]
        return self._write(lambda: self._client.put_item(**kwargs), keys, False)

    def update_item(self, **kwargs: Any) -> Any:
        return self._write(lambda: self._client.update_item(**kwargs), [kwargs["Key"]], False)

    def transact_write_items(self, **kwargs: Any) -> Any:
        keys = []
        for entry in kwargs["TransactItems"]:
            (kind, op), *_ = entry.items()
            keys.append(self._keyed(op["Item"]) if kind == "Put" else op["Key"])
        return self._write(lambda: self._client.transact_write_items(**kwargs), keys, True)

    def get_item(self, **kwargs: Any) -> Any:
        response = self._client.get_item(**kwargs)
        size = item_size(response.get("Item", {}))
        self.estimate.read += read_units(size, consistent=kwargs.get("ConsistentRead", False))
        return response

    def batch_get_item(self, **kwargs: Any) -> Any:
        response = self._client.batch_get_item(**kwargs)
        for table, items in response["Responses"].items():
            asked = kwargs["RequestItems"][table]
            consistent = asked.get("ConsistentRead", False)
            for item in items:
                self.estimate.read += read_units(item_size(item), consistent=consistent)
            # A key with no item is billed as a read of the minimum size.
            missing = len(asked["Keys"]) - len(items)
            self.estimate.read += missing * read_units(0, consistent=consistent)
        return response

    def query(self, **kwargs: Any) -> Any:
        response = self._client.query(**kwargs)
        # Billed on every item read before the filter, at its full (projected) size:
        # read those items again with the key condition alone.
        condition = kwargs["KeyConditionExpression"]
        unfiltered = {
            k: v
            for k, v in kwargs.items()
            if k not in {"FilterExpression", "ProjectionExpression", "ReturnConsumedCapacity"}
        }
        unfiltered["ExpressionAttributeNames"] = names(condition)
        unfiltered["ExpressionAttributeValues"] = {
            name: value
            for name, value in kwargs["ExpressionAttributeValues"].items()
            if name in re.findall(r":\w+", condition)
        }
        unfiltered["Limit"] = max(response["ScannedCount"], 1)
        scanned = self._client.query(**unfiltered)["Items"][: response["ScannedCount"]]
        size = sum(item_size(item) for item in scanned)
        self.estimate.read += read_units(size, consistent=kwargs.get("ConsistentRead", False))
        return response


INDEXES = indexes()


# --------------------------------------------------------------------------- scenario


@dataclass
class Row:
    operation: str
    calls: dict[str, int] = field(default_factory=dict)
    reported: tuple[float, float] = (0.0, 0.0)
    estimated: tuple[float, float] = (0.0, 0.0)
    sqlite_statements: int = 0


def seed(store: IndexStore) -> None:
    statuses = [Status.OPEN, Status.OPEN, Status.PLANNED, Status.IN_PROGRESS, Status.COMPLETED]
    for number in range(1, SEED_REQUESTS + 1):
        title = f"{WORDS[number % len(WORDS)]} request {number} with a typical title length"
        store.upsert_request(
            request(
                number,
                votes=number % 17,
                title=title,
                status=statuses[number % len(statuses)],
                at=T0 - timedelta(hours=number),
            )
        )
    # A duplicate with votes to merge into its original; one voter voted for both.
    for n in range(MOVED_VOTES):
        store.add_vote(Vote("mobile", MOVE_SOURCE, f"merge-voter-{n}", T0))
    store.add_vote(Vote("mobile", MOVE_TARGET, "merge-voter-0", T0))


def operations() -> list[tuple[str, Callable[[IndexStore], object]]]:
    key = IdempotencyClaim("bench-key", "fp", T0 + timedelta(hours=24))
    delivered = replace(request(SEED_REQUESTS + 1, title="Dark mode"), submission_id="b1")
    return [
        (
            "submit: create + Idempotency-Key",
            lambda s: s.create_submission(submission("b1"), idempotency=key, now=T0),
        ),
        (
            "submit: repeat of the same key",
            lambda s: s.create_submission(submission("b2"), idempotency=key, now=T0),
        ),
        (
            # What the API's route stores: no claim follows before mark_delivered.
            "submit: leased + 2 counters",
            lambda s: s.create_submission(
                submission("b3"),
                idempotency=None,
                now=T0,
                rate=RateHit("submission:mobile::192.0.2.1", window_seconds=3600, limit=10),
                repeat=RepeatCheck("repeat:bench", 86400, hold=Hold.HELD, signals=("repeat",)),
                lease_until=T0 + timedelta(minutes=2),
            ),
        ),
        ("deliver: due_submissions(10)", lambda s: s.due_submissions(now=T0, limit=10)),
        (
            "deliver: claim_submission",
            lambda s: s.claim_submission("b1", now=T0, lease_until=T0 + timedelta(minutes=2)),
        ),
        ("deliver: mark_delivered", lambda s: s.mark_delivered("b1", delivered)),
        ("list: top, 20", lambda s: s.list_requests(ListQuery(app="mobile", limit=20))),
        (
            "list: new, status=planned, 20",
            lambda s: s.list_requests(
                ListQuery(app="mobile", sort=SortOrder.NEW, status=Status.PLANNED, limit=20)
            ),
        ),
        (
            "list: top, q=export, 20",
            lambda s: s.list_requests(ListQuery(app="mobile", words=("export",), limit=20)),
        ),
        ("get_request", lambda s: s.get_request("mobile", 7)),
        (
            "rate limit: hit",
            lambda s: s.hit_rate_limit("ip:203.0.113.9:mobile", window_seconds=3600, now=T0),
        ),
        ("vote: add_vote", lambda s: s.add_vote(Vote("mobile", 7, "bench-voter", T0))),
        ("vote: add_vote, repeat", lambda s: s.add_vote(Vote("mobile", 7, "bench-voter", T0))),
        ("vote: voted, 20 numbers", lambda s: s.voted("mobile", "bench-voter", range(1, 21))),
        ("vote: remove_vote", lambda s: s.remove_vote("mobile", 7, "bench-voter", now=T0)),
        ("vote: remove_vote, none", lambda s: s.remove_vote("mobile", 7, "bench-voter", now=T0)),
        (
            f"merge: move_votes ({MOVED_VOTES} votes)",
            lambda s: s.move_votes("mobile", MOVE_SOURCE, MOVE_TARGET, now=T0),
        ),
        ("tally: due_tallies(10)", lambda s: s.due_tallies(now=T0 + TALLY_INTERVAL, limit=10)),
        (
            "tally: record_tally",
            lambda s: s.record_tally("mobile", 7, version=2, now=T0 + TALLY_INTERVAL),
        ),
        ("health: ping", lambda s: s.ping()),
        ("health: outbox_stats", lambda s: s.outbox_stats()),
    ]


def run_dynamodb(endpoint: str) -> list[Row]:
    raw = make_client(endpoint)
    create_table(raw, TABLE)
    seed(DynamoDBStore(TABLE, client=raw))
    meter = CapacityMeter()
    estimating = EstimatingClient(raw)
    store = DynamoDBStore(TABLE, client=estimating, capacity=meter)
    store.hit_rate_limit("ip:203.0.113.9:mobile", window_seconds=3600, now=T0)  # window exists
    rows = []
    for name, operation in operations():
        meter.reset()
        estimating.estimate = Estimate()
        operation(store)
        _, read, write = meter.totals()
        rows.append(
            Row(
                name,
                calls=dict(meter.calls),
                reported=(read, write),
                estimated=(estimating.estimate.read, estimating.estimate.write),
            )
        )
    return rows


def run_sqlite(rows: list[Row]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        store = SQLiteStore(Path(directory) / "bench.db")
        seed(store)
        store.hit_rate_limit("ip:203.0.113.9:mobile", window_seconds=3600, now=T0)
        statements: list[str] = []
        store._connection().set_trace_callback(statements.append)  # this thread's connection
        for row, (_, operation) in zip(rows, operations(), strict=True):
            statements.clear()
            operation(store)
            row.sqlite_statements = len(statements)
        store.close()


def render(rows: list[Row]) -> str:
    header = (
        f"{'operation':34} {'DynamoDB calls':32} {'reported R/W':>13} {'AWS est. R/W':>13}"
        f" {'SQLite stmts':>12}"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        calls = ", ".join(f"{n}x {op}" if n > 1 else op for op, n in row.calls.items())
        reported = f"{row.reported[0]:g}/{row.reported[1]:g}"
        estimated = f"{row.estimated[0]:g}/{row.estimated[1]:g}"
        lines.append(
            f"{row.operation:34} {calls:32} {reported:>13} {estimated:>13}"
            f" {row.sqlite_statements:>12}"
        )
    return "\n".join(lines)


def main() -> None:
    with aws_test_env(), running_moto() as endpoint:
        rows = run_dynamodb(endpoint)
    run_sqlite(rows)
    print(f"Index store costs per operation ({SEED_REQUESTS} requests in the app; moto {endpoint})")
    print(render(rows))
    print(
        "\nreported: ReturnConsumedCapacity=TOTAL as the server answered (moto: placeholders)."
        "\nAWS est.: DynamoDB's billing rules applied to the items read and written"
        " (on-demand request units; one unit covers 1 KB written or 4 KB read strongly)."
    )


if __name__ == "__main__":
    main()
