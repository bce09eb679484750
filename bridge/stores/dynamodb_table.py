"""The DynamoDB index table: its definition, key spellings and sortable encodings.

One table holds everything (single-table design); ``pk``/``sk`` are strings.

=====================  ==============================  ==============================
item                   pk                              sk
=====================  ==============================  ==============================
request                ``APP#<app>``                   ``REQ#<number:010>``
vote                   ``APP#<app>``                   ``VOTE#<number:010>#<voter>``
departed request       ``APP#<app>``                   ``LEFT#<number:010>``
request description    ``APP#<app>``                   ``TEXT#<number:010>``
submission (outbox)    ``SUB#<id>``                    ``SUB``
idempotency key        ``IDEM#<app>#<key>``            ``IDEM``
rate-limit window      ``RATE#<key>``                  ``W#<window start, epoch s>``
webhook delivery id    ``DELIVERY#<id>``               ``DELIVERY``
App installation       ``INSTALL``                     ``REPO#<owner/name>``
sync marks of an app   ``SYNC#<app>``                  ``SYNC``
=====================  ==============================  ==============================

Global secondary indexes (all sparse: only items carrying the key attributes):

* ``top``, ``new``, ``trending``: partition ``pk`` (``APP#<app>``), sort
  ``top_key`` / ``new_key`` / ``trend_key``; an app's unfiltered listings.
* ``status_top``, ``status_new``, ``status_trending``: partition ``status_pk``
  (``APP#<app>#STATUS#<status>``), same sort keys; listings with ``?status=``.
* ``due``: partition ``due_pk`` (the constant ``OUTBOX``, present only while a
  submission is undelivered and sendable; ``HELD#<app>``, ``REJECTED#<app>``,
  ``DEAD#<app>`` or ``CANCELLED#<app>`` while it is held back), sort ``due_key``
  (``<next_attempt_at>#<id>``; ``<created_at>#<id>`` while held, oldest first);
  projects only ``lease_until`` and ``created_at``, so the outbox's large
  content is never copied into it.
* ``tally``: partition ``tally_due_pk`` (the constant ``TALLY``, present only
  while a request's ``tally_version`` is ahead of ``tally_written_version``),
  sort ``tally_due_key`` (``<tally_written_at>#<app>#<number>``); keys only.

A request's vote tally bookkeeping (``tally_version``, ``tally_written_version``,
``tally_written_at``) and the ``tally`` index keys belong to the vote and tally
writes alone: request upserts and GitHub's changes update the other attributes
and leave these as they are. Votes live beside their request in the app's
partition; their sort keys start with ``VOTE#`` and never carry listing keys,
so they are in no index.

Each listing sort key ends in the zero-padded issue number, so every key is
unique within its partition and a descending query gives ``<order> DESC,
number DESC`` exactly as the SQLite store does. Expiring items carry
``expires_at`` (whole epoch seconds), which is also the table's TTL attribute.
"""

from __future__ import annotations

import re
import struct
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

from bridge.domain import Hold, SortOrder, Status
from bridge.timeutil import to_sortable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import (
        CreateTableInputTypeDef,
        GlobalSecondaryIndexTypeDef,
    )

TTL_ATTRIBUTE: Final = "expires_at"
DUE_PARTITION: Final = "OUTBOX"
DUE_INDEX: Final = "due"
TALLY_PARTITION: Final = "TALLY"
TALLY_INDEX: Final = "tally"
# ``tally_written_at`` of a request whose tally was never written (SQLite's 0).
NEVER_WRITTEN: Final = "1970-01-01T00:00:00.000000Z"
INSTALL_PARTITION: Final = "INSTALL"  # every repository the App is installed on

# sort -> (index without a status filter, index with one, sort-key attribute)
LISTING_INDEXES: Final[dict[SortOrder, tuple[str, str, str]]] = {
    SortOrder.TOP: ("top", "status_top", "top_key"),
    SortOrder.NEW: ("new", "status_new", "new_key"),
    SortOrder.TRENDING: ("trending", "status_trending", "trend_key"),
}

_NUMBER = r"\d{10}"
POSITION_PATTERNS: Final[dict[SortOrder, re.Pattern[str]]] = {
    SortOrder.TOP: re.compile(rf"\d{{16}}#{_NUMBER}"),
    SortOrder.NEW: re.compile(rf"\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{6}}Z#{_NUMBER}"),
    SortOrder.TRENDING: re.compile(rf"[0-9a-f]{{16}}#{_NUMBER}"),
}

_INT_OFFSET = 10**15  # votes may be any int in (-10**15, 9 * 10**15) and still sort as text


# --------------------------------------------------------------------------- keys


def app_pk(app: str) -> str:
    """Partition of an app's requests."""
    return f"APP#{app}"


def request_sk(number: int) -> str:
    """Sort key of one request within its app."""
    return f"REQ#{number:010d}"


def departed_sk(number: int) -> str:
    """Sort key of what the bridge keeps of a request while it is out of its app."""
    return f"LEFT#{number:010d}"


TEXT_PREFIX = "TEXT#"


def text_sk(number: int) -> str:
    """Sort key of a request's description, an item apart so a vote never rewrites it."""
    return f"{TEXT_PREFIX}{number:010d}"


def status_pk(app: str, status: Status) -> str:
    """Partition of an app's requests in one status (the ``status_*`` indexes)."""
    return f"APP#{app}#STATUS#{status.value}"


def vote_prefix(number: int) -> str:
    """Sort-key prefix of every vote on one request."""
    return f"VOTE#{number:010d}#"


def vote_sk(number: int, voter: str) -> str:
    """Sort key of one voter's vote on one request (the fixed-width number ends at ``#``)."""
    return f"{vote_prefix(number)}{voter}"


SUBMISSION_SK: Final = "SUB"


def submission_pk(submission_id: str) -> str:
    """Partition of one outbox submission."""
    return f"SUB#{submission_id}"


def idempotency_pk(app: str, key: str) -> str:
    """Partition of one Idempotency-Key; app ids never contain ``#``."""
    return f"IDEM#{app}#{key}"


def rate_pk(key: str) -> str:
    """Partition of a rate-limit key; its windows are the sort keys."""
    return f"RATE#{key}"


def sync_pk(app: str) -> str:
    """Partition of an app's sync marks (one item, sort key ``SYNC``)."""
    return f"SYNC#{app}"


def counter_pk(key: str) -> str:
    """Partition of a shared counter (one item, sort key ``COUNTER``)."""
    return f"COUNTER#{key}"


def delivery_pk(delivery_id: str) -> str:
    """Partition of one recorded GitHub webhook delivery."""
    return f"DELIVERY#{delivery_id}"


def due_key(next_attempt_at: datetime, submission_id: str) -> str:
    """Outbox order: next attempt time, then id."""
    return f"{to_sortable(next_attempt_at)}#{submission_id}"


def hold_partition(hold: Hold, app: str) -> str:
    """The ``due`` index partition of an app's submissions held back for ``hold``:
    kept apart from the outbox's, so delivery never reads them and review lists them."""
    return f"{hold.value.upper()}#{app}"


def due_bound(now: datetime) -> str:
    """Every ``due_key`` at or before ``now`` sorts below this (``$`` follows ``#``)."""
    return f"{to_sortable(now)}$"


def tally_due_key(written_at: str, app: str, number: int) -> str:
    """Order of the ``tally`` index: last written first, then the request."""
    return f"{written_at}#{app}#{number:010d}"


def sortable_bound(moment: datetime) -> str:
    """``to_sortable`` text of any instant, the year zero-padded even before 1000."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")[:26] + "Z"


def top_key(total_votes: int, number: int) -> str:
    """Sort key of the ``top`` order."""
    return f"{ordered_int(total_votes)}#{number:010d}"


def new_key(created_at: datetime, number: int) -> str:
    """Sort key of the ``new`` order."""
    return f"{to_sortable(created_at)}#{number:010d}"


def trend_key(score: float, number: int) -> str:
    """Sort key of the ``trending`` order."""
    return f"{ordered_float(score)}#{number:010d}"


def ordered_int(value: int) -> str:
    """Fixed-width decimal whose text order is numeric order."""
    return f"{value + _INT_OFFSET:016d}"


def ordered_float(value: float) -> str:
    """Hex of the IEEE-754 bits, flipped so text order is numeric order (exact)."""
    (bits,) = struct.unpack(">Q", struct.pack(">d", value))
    bits = bits ^ 0xFFFF_FFFF_FFFF_FFFF if bits >> 63 else bits | 1 << 63
    return f"{bits:016x}"


# --------------------------------------------------------------------------- table


def _index(name: str, partition: str, sort: str) -> GlobalSecondaryIndexTypeDef:
    return {
        "IndexName": name,
        "KeySchema": [
            {"AttributeName": partition, "KeyType": "HASH"},
            {"AttributeName": sort, "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "ALL"},
    }


def table_definition(table_name: str) -> CreateTableInputTypeDef:
    """``CreateTable`` arguments: keys, the eight sparse GSIs, on-demand billing."""
    indexes: list[GlobalSecondaryIndexTypeDef] = []
    for plain, by_status, sort in LISTING_INDEXES.values():
        indexes.append(_index(plain, "pk", sort))
        indexes.append(_index(by_status, "status_pk", sort))
    due = _index(DUE_INDEX, "due_pk", "due_key")
    due["Projection"] = {
        "ProjectionType": "INCLUDE",
        "NonKeyAttributes": ["lease_until", "created_at"],
    }
    indexes.append(due)
    tally = _index(TALLY_INDEX, "tally_due_pk", "tally_due_key")
    tally["Projection"] = {"ProjectionType": "KEYS_ONLY"}
    indexes.append(tally)
    key_attributes = ["pk", "sk", "status_pk", "due_pk", "due_key", "tally_due_pk", "tally_due_key"]
    key_attributes += [sort for _, _, sort in LISTING_INDEXES.values()]
    return {
        "TableName": table_name,
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": "S"} for name in key_attributes
        ],
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": indexes,
        "BillingMode": "PAY_PER_REQUEST",
    }


def create_table(client: DynamoDBClient, table_name: str) -> None:
    """Create the index table with its GSIs, wait until it is active, enable TTL.

    Used by tests, the benchmark and ``featurebridge doctor``; the SAM template
    declares the same table (keep them in step with :func:`table_definition`).
    """
    client.create_table(**table_definition(table_name))
    client.get_waiter("table_exists").wait(
        TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    client.update_time_to_live(
        TableName=table_name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
    )
