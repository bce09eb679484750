"""The DynamoDB store's table access: a lazily built client, metered, errors translated.

The client comes from ``botocore.session`` rather than ``boto3`` (boto3's import
also loads s3transfer, which a Lambda cold start pays for and never uses). It
honours ``AWS_ENDPOINT_URL_DYNAMODB`` and the other standard AWS variables by
itself; ``endpoint_url`` overrides them.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import BotoCoreError, ClientError

from bridge.ports import StoreError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import (
        ConsumedCapacityTypeDef,
        QueryInputTypeDef,
        TransactWriteItemTypeDef,
    )

    from bridge.stores.dynamodb_items import Item

_READ_OPERATIONS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"})
_PLACEHOLDER = re.compile(r"#(\w+)")


class ConditionFailedError(Exception):
    """A conditional write found the item in another state (``Item``: its old image)."""

    def __init__(self, item: Item | None) -> None:
        super().__init__("condition failed")
        self.item = item


class TransactionCancelledError(Exception):
    """A transaction was cancelled; ``reasons`` line up with its items."""

    def __init__(self, reasons: Sequence[Mapping[str, Any]]) -> None:
        super().__init__("transaction cancelled")
        self.reasons = list(reasons)

    def code(self, index: int) -> str:
        """The cancellation code of the ``index``-th item (``None`` when it was fine)."""
        if index < len(self.reasons):
            return str(self.reasons[index].get("Code", "None"))
        return "None"

    def item(self, index: int) -> Item | None:
        """The old image of the ``index``-th item, when its condition failed."""
        if index < len(self.reasons):
            return cast("Item | None", self.reasons[index].get("Item"))
        return None


class CapacityMeter:
    """Capacity units DynamoDB reports per API operation (``ReturnConsumedCapacity``).

    Hand one to ``DynamoDBStore(capacity=...)`` to see what each use case costs;
    without one the store does not ask DynamoDB for the figures. Thread-safe.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.read_units: defaultdict[str, float] = defaultdict(float)
        self.write_units: defaultdict[str, float] = defaultdict(float)

    def record(
        self,
        operation: str,
        consumed: ConsumedCapacityTypeDef | Sequence[ConsumedCapacityTypeDef] | None,
    ) -> None:
        """Count one call of ``operation`` and the units its answer reported."""
        entries = [consumed] if isinstance(consumed, Mapping) else list(consumed or ())
        read = write = 0.0
        for entry in entries:
            total = float(entry.get("CapacityUnits", 0.0))
            if "ReadCapacityUnits" in entry or "WriteCapacityUnits" in entry:
                read += float(entry.get("ReadCapacityUnits", 0.0))
                write += float(entry.get("WriteCapacityUnits", 0.0))
            elif operation in _READ_OPERATIONS:
                read += total
            else:
                write += total
        with self._lock:
            self.calls[operation] += 1
            self.read_units[operation] += read
            self.write_units[operation] += write

    def totals(self) -> tuple[int, float, float]:
        """``(calls, read units, write units)`` over every operation so far."""
        with self._lock:
            return (
                sum(self.calls.values()),
                sum(self.read_units.values()),
                sum(self.write_units.values()),
            )

    def reset(self) -> None:
        """Forget everything recorded."""
        with self._lock:
            self.calls.clear()
            self.read_units.clear()
            self.write_units.clear()


class Table:
    """The store's table over one DynamoDB client, built on first use, shared by threads.

    Each method is one API call: it asks for consumed capacity when a meter is
    given, feeds the meter, and translates errors (see :meth:`errors`).
    """

    def __init__(
        self,
        table_name: str,
        *,
        client: DynamoDBClient | None,
        endpoint_url: str | None,
        capacity: CapacityMeter | None,
    ) -> None:
        self.name = table_name
        self.capacity = capacity
        self._report: Any = "TOTAL" if capacity is not None else "NONE"
        self._client = client
        self._endpoint_url = endpoint_url
        self._lock = threading.Lock()

    @property
    def client(self) -> DynamoDBClient:
        """The client, built on first use."""
        if self._client is None:
            with self._lock, self.errors("CreateClient"):
                if self._client is None:
                    self._client = _build_client(self._endpoint_url)
        return self._client

    def get(self, key: Item, *, consistent: bool = True) -> Item | None:
        """GetItem."""
        with self.errors("GetItem"):
            response = self.client.get_item(
                TableName=self.name,
                Key=key,
                ConsistentRead=consistent,
                ReturnConsumedCapacity=self._report,
            )
        self._observe("GetItem", response)
        return response.get("Item")

    def put(self, item: Item, *, condition: str | None = None) -> None:
        """PutItem, optionally conditional (names only: no values needed so far)."""
        extra: dict[str, Any] = {}
        if condition is not None:
            extra = {"ConditionExpression": condition, "ExpressionAttributeNames": names(condition)}
        with self.errors("PutItem"):
            response = self.client.put_item(
                TableName=self.name, Item=item, ReturnConsumedCapacity=self._report, **extra
            )
        self._observe("PutItem", response)

    def update(
        self,
        key: Item,
        update: str,
        values: Item,
        *,
        condition: str | None = None,
        returns: Any = "NONE",
    ) -> Item:
        """UpdateItem; returns the attributes ``returns`` asks for."""
        extra: dict[str, Any] = {"ConditionExpression": condition} if condition else {}
        with self.errors("UpdateItem"):
            response = self.client.update_item(
                TableName=self.name,
                Key=key,
                UpdateExpression=update,
                ExpressionAttributeNames=names(update, condition or ""),
                ExpressionAttributeValues=values,
                ReturnValues=returns,
                ReturnConsumedCapacity=self._report,
                **extra,
            )
        self._observe("UpdateItem", response)
        return response.get("Attributes", {})

    def transact(
        self, items: Sequence[TransactWriteItemTypeDef], *, token: str | None = None
    ) -> None:
        """TransactWriteItems.

        With a ``token`` (``ClientRequestToken``), botocore's own resend of
        the call after a lost answer is idempotent: DynamoDB answers it as
        the first one instead of failing its conditions a second time.
        """
        extra: dict[str, Any] = {"ClientRequestToken": token} if token is not None else {}
        with self.errors("TransactWriteItems"):
            response = self.client.transact_write_items(
                TransactItems=items, ReturnConsumedCapacity=self._report, **extra
            )
        self._observe("TransactWriteItems", response)

    def scan_all(self) -> Iterator[Item]:
        """Every item of the table, page by page (operator tasks only: it reads it all)."""
        start: Item | None = None
        while True:
            extra: dict[str, Any] = {"ExclusiveStartKey": start} if start else {}
            with self.errors("Scan"):
                response = self.client.scan(
                    TableName=self.name, ReturnConsumedCapacity=self._report, **extra
                )
            self._observe("Scan", response)
            yield from response["Items"]
            start = response.get("LastEvaluatedKey")
            if start is None:
                return

    def query(self, params: QueryInputTypeDef) -> tuple[list[Item], Item | None, int]:
        """One Query page: ``(items, LastEvaluatedKey, ScannedCount)``."""
        with self.errors("Query"):
            response = self.client.query(**{**params, "ReturnConsumedCapacity": self._report})
        self._observe("Query", response)
        return response["Items"], response.get("LastEvaluatedKey"), response["ScannedCount"]

    def batch_get(self, keys: Sequence[Item]) -> dict[tuple[str, str], Item]:
        """Items by ``(pk, sk)`` (strongly consistent), retrying unprocessed keys."""
        found: dict[tuple[str, str], Item] = {}
        pending = list(keys)
        for attempt in range(12):
            if not pending:
                break
            chunk, pending = pending[:100], pending[100:]
            with self.errors("BatchGetItem"):
                response = self.client.batch_get_item(
                    RequestItems={self.name: {"Keys": chunk, "ConsistentRead": True}},
                    ReturnConsumedCapacity=self._report,
                )
            self._observe("BatchGetItem", response)
            for item in response["Responses"].get(self.name, []):
                found[item["pk"]["S"], item["sk"]["S"]] = item
            unprocessed = response.get("UnprocessedKeys", {}).get(self.name)
            if unprocessed:
                pending.extend(unprocessed["Keys"])
                backoff(attempt)
        if pending:
            raise StoreError(f"DynamoDB BatchGetItem on table {self.name} kept throttling")
        return found

    def _observe(self, operation: str, response: Mapping[str, Any]) -> None:
        if self.capacity is not None:
            self.capacity.record(operation, response.get("ConsumedCapacity"))

    @contextmanager
    def errors(self, operation: str) -> Iterator[None]:
        """Translate botocore failures into the port's errors.

        Conditional-check failures and cancelled transactions become the
        errors above (the store decides what they mean); everything else,
        after botocore's own retries, is a StoreError.
        """
        try:
            yield
        except ClientError as error:
            response: Mapping[str, Any] = error.response
            self._observe(operation, response)  # failed writes are billed too
            details = response.get("Error", {})
            code = str(details.get("Code", ""))
            if code == "ConditionalCheckFailedException":
                raise ConditionFailedError(response.get("Item")) from error
            if code == "TransactionCanceledException":
                raise TransactionCancelledError(response.get("CancellationReasons", [])) from error
            hint = ""
            if code == "ResourceNotFoundException":
                hint = " (create it with bridge.stores.dynamodb_table.create_table)"
            raise StoreError(
                f"DynamoDB {operation} on table {self.name} failed: {code}:"
                f" {details.get('Message', '')}{hint}"
            ) from error
        except BotoCoreError as error:
            raise StoreError(
                f"DynamoDB {operation} on table {self.name} failed: {error}"
            ) from error


def backoff(attempt: int) -> None:
    """Sleep a little (with jitter) before retrying a write that lost a race."""
    time.sleep(random.uniform(0, 0.01 * 2**attempt))  # noqa: S311 -- jitter, not crypto


def names(*expressions: str) -> dict[str, str]:
    """``ExpressionAttributeNames`` for every ``#name`` placeholder used.

    Expressions spell every attribute as ``#attribute``, which sidesteps
    DynamoDB's reserved words (``number``, ``status``, ``url``, ...).
    """
    found: dict[str, str] = {}
    for expression in expressions:
        for name in _PLACEHOLDER.findall(expression):
            found[f"#{name}"] = name
    return found


def _build_client(endpoint_url: str | None) -> DynamoDBClient:
    import botocore.session
    from botocore.config import Config

    config = Config(
        connect_timeout=3,
        read_timeout=10,
        retries={"mode": "standard", "max_attempts": 4},
        tcp_keepalive=True,
    )
    session = botocore.session.get_session()
    client = session.create_client("dynamodb", endpoint_url=endpoint_url, config=config)
    return cast("DynamoDBClient", client)
