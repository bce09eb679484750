"""The index store on one DynamoDB table, for the bridge on AWS Lambda.

Table layout, keys and indexes: :mod:`bridge.stores.dynamodb_table`; the
outbox (exactly-once creates, leases, delivery): :mod:`dynamodb_outbox`;
changes from GitHub: :mod:`dynamodb_github`; votes and tallies:
:mod:`dynamodb_votes`; the client, its errors and the capacity meter:
:mod:`dynamodb_client`. Expired records (``expires_at`` at or
before ``now``) are treated as absent by every read and condition, whatever
DynamoDB's TTL sweep (which can take days) has done.

Listing cursors are keyset positions: the last item's sort key in the
listing's index (``<order key>#<number>``), resumed with ``sort_key <
:position`` in the key condition, so a cursor stays valid while items move.
``q=`` words query the same index partition (the app, or the app and status)
with ``contains(title_folded, word)`` filters: no table scan, but DynamoDB
bills every item read before the filter (0.5 RCU per 4 KB; a request item is
about 0.5 KB). A page without words costs about 1.5 RCU; with words it reads
on until the page is full, at most ``MAX_EVALUATED`` items (about 70 RCU),
and when that budget runs out it comes back short with a cursor to go on.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from bridge.domain import Request, Status
from bridge.ports import ExportPage, InvalidCursorError, ListQuery, Page, StoreError
from bridge.stores import dynamodb_items as i
from bridge.stores import dynamodb_table as t
from bridge.stores.codec import export_cursor, export_position
from bridge.stores.dynamodb_analysis import AnalysisMixin
from bridge.stores.dynamodb_client import CapacityMeter, Table, names
from bridge.stores.dynamodb_email import EmailMixin
from bridge.stores.dynamodb_github import GitHubMixin
from bridge.stores.dynamodb_notify import NotifyMixin
from bridge.stores.dynamodb_outbox import OutboxMixin
from bridge.stores.dynamodb_privacy import PrivacyMixin
from bridge.stores.dynamodb_similar import SimilarMixin
from bridge.stores.dynamodb_votes import VotesMixin

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import QueryInputTypeDef

    from bridge.export import Row
    from bridge.stores.dynamodb_items import Item

__all__ = ["CapacityMeter", "DynamoDBStore"]

# Items a listing with ``q=`` may read before it answers with a short page.
MAX_EVALUATED = 1000


class DynamoDBStore(
    OutboxMixin,
    GitHubMixin,
    VotesMixin,
    AnalysisMixin,
    SimilarMixin,
    PrivacyMixin,
    NotifyMixin,
    EmailMixin,
):
    """IndexStore over one DynamoDB table (see :func:`dynamodb_table.create_table`).

    The outbox methods live in :mod:`dynamodb_outbox`, GitHub's changes in
    :mod:`dynamodb_github`, votes and tallies in :mod:`dynamodb_votes`; this
    class holds the table, the listings and the export.
    """

    def __init__(
        self,
        table_name: str,
        *,
        client: DynamoDBClient | None = None,
        endpoint_url: str | None = None,
        capacity: CapacityMeter | None = None,
    ) -> None:
        self.table_name = table_name
        self._table = Table(table_name, client=client, endpoint_url=endpoint_url, capacity=capacity)

    # ------------------------------------------------------------------ health

    def ping(self) -> None:
        """Raise StoreError when the table cannot answer (one eventually consistent read)."""
        self._table.get(i.key("PING", "PING"), consistent=False)

    def diagnose(self) -> list[str]:
        """The table exists with every index this code queries, and TTL on ``expires_at``."""
        client, name = self._table.client, self._table.name
        try:
            with self._table.errors("DescribeTable"):
                described = client.describe_table(TableName=name)["Table"]
            with self._table.errors("DescribeTimeToLive"):
                ttl = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        except StoreError as error:
            return [f"{error}; deploy lambda/template.yaml, which declares it"]
        wanted = {
            index["IndexName"] for index in t.table_definition(name)["GlobalSecondaryIndexes"]
        }
        present = {index["IndexName"] for index in described.get("GlobalSecondaryIndexes", [])}
        problems = []
        if wanted - present:
            problems.append(
                f"table {name} lacks index(es) {', '.join(sorted(wanted - present))}:"
                " redeploy lambda/template.yaml (CloudFormation adds one index per update)"
            )
        if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING") or (
            ttl.get("AttributeName") != "expires_at"
        ):
            problems.append(
                f"table {name} has no TTL on expires_at: expired records are ignored on read"
                " but never deleted; enable TTL on expires_at"
            )
        return problems

    # ------------------------------------------------------------------ requests

    def upsert_request(self, request: Request) -> None:
        """Insert or replace one request (and with it its index entries).

        One UpdateItem that sets every attribute of the request, so the tally
        bookkeeping of its votes survives (a PutItem would drop a pending tally).
        """
        update, values = i.request_update(request)
        self._table.update(
            i.key(t.app_pk(request.app), t.request_sk(request.number)), update, values
        )
        description = i.description_item(request)
        if description is not None:
            self._table.put(description)

    def get_request(self, app: str, number: int) -> Request | None:
        """One request of an app (a strongly consistent read)."""
        item = self._table.get(i.key(t.app_pk(app), t.request_sk(number)))
        return i.request_of(item) if item is not None else None

    def list_requests(self, query: ListQuery) -> Page:
        """A keyset-paged listing from the order's index (see the module docstring)."""
        plain, by_status, sort_attribute = t.LISTING_INDEXES[query.sort]
        if query.cursor is not None and not t.POSITION_PATTERNS[query.sort].fullmatch(query.cursor):
            raise InvalidCursorError("cursor is not a position of this listing")
        if query.status is None:
            index, partition_attribute, partition = plain, "pk", t.app_pk(query.app)
        else:
            index, partition_attribute = by_status, "status_pk"
            partition = t.status_pk(query.app, query.status)
        condition = f"#{partition_attribute} = :partition"
        values: Item = {":partition": i.s(partition)}
        if query.cursor is not None:
            condition += f" AND #{sort_attribute} < :position"
            values[":position"] = i.s(query.cursor)
        params: QueryInputTypeDef = {
            "TableName": self.table_name,
            "IndexName": index,
            "KeyConditionExpression": condition,
            "ScanIndexForward": False,
            "Limit": query.limit + 1,
        }
        if query.words:
            words = " AND ".join(f"contains(#title_folded, :w{n})" for n in range(len(query.words)))
            params["FilterExpression"] = words
            params["Limit"] = min(max(4 * (query.limit + 1), 100), MAX_EVALUATED)
            values.update({f":w{n}": i.s(word) for n, word in enumerate(query.words)})
        params["ExpressionAttributeNames"] = names(condition, params.get("FilterExpression", ""))
        params["ExpressionAttributeValues"] = values
        found: list[Item] = []
        evaluated = 0
        while True:
            items, start, scanned = self._table.query(params)
            found.extend(items)
            evaluated += scanned
            if len(found) > query.limit or start is None or evaluated >= MAX_EVALUATED:
                break
            params["ExclusiveStartKey"] = start
        page = found[: query.limit]
        position: str | None = None
        if len(found) > query.limit:
            position = i.required_text(page[-1], sort_attribute)
        elif start is not None:
            position = i.required_text(start, sort_attribute)  # budget spent: resume after it
        return Page(items=[i.request_of(item) for item in page], next_cursor=position)

    # ------------------------------------------------------------------ export

    def export_rows(
        self,
        *,
        apps: Sequence[str],
        status: Status | None,
        updated_since: datetime | None,
        limit: int,
        cursor: str | None,
    ) -> ExportPage:
        """Export rows of ``apps`` in (app, number) order; the cursor is the last (app, number).

        One consistent Query per app partition on the table itself, over the
        ``REQ#`` sort keys only (the app's votes sort after them), filters
        applied by DynamoDB (billed on the items read before them). With
        filters a page reads at most ``MAX_EVALUATED`` items and may come back
        short, with a cursor after the last item it read.
        """
        if limit < 1:
            raise ValueError("limit must be at least 1")
        after = export_position(cursor) if cursor is not None else None
        filters: list[str] = []
        values: Item = {}
        if status is not None:
            filters.append("#status = :status")
            values[":status"] = i.s(status.value)
        if updated_since is not None:
            filters.append("#updated_at >= :since")
            values[":since"] = i.s(t.sortable_bound(updated_since))
        condition = "#pk = :pk AND #sk BETWEEN :first AND :last"
        found: list[Item] = []
        evaluated = 0
        previous: str | None = None
        for app in sorted(set(apps)):
            if after is not None and app < after[0]:
                continue
            first = after[1] + 1 if after is not None and app == after[0] else 0
            if first > _MAX_NUMBER:
                continue
            if previous is not None and evaluated >= MAX_EVALUATED:  # resume with this app
                page = _rows(found)
                return ExportPage(rows=page, next_cursor=export_cursor(previous, _MAX_NUMBER))
            previous = app
            params: QueryInputTypeDef = {
                "TableName": self.table_name,
                "KeyConditionExpression": condition,
                "ExpressionAttributeValues": {
                    **values,
                    ":pk": i.s(t.app_pk(app)),
                    ":first": i.s(t.request_sk(max(first, 0))),
                    ":last": i.s(t.request_sk(_MAX_NUMBER)),
                },
                "ConsistentRead": True,
            }
            if filters:
                params["FilterExpression"] = " AND ".join(filters)
            params["ExpressionAttributeNames"] = names(
                condition, params.get("FilterExpression", "")
            )
            while True:
                wanted = limit + 1 - len(found)
                if filters:  # read ahead: most items may not match
                    wanted = min(max(4 * wanted, 100), MAX_EVALUATED - evaluated)
                params["Limit"] = wanted
                items, start, scanned = self._table.query(params)
                found.extend(items)
                evaluated += scanned
                if len(found) > limit:
                    last = found[limit - 1]
                    position = (i.required_text(last, "app"), i.required_number(last, "number"))
                    page = _rows(found[:limit])
                    return ExportPage(rows=page, next_cursor=export_cursor(*position))
                if start is None:
                    break
                if evaluated >= MAX_EVALUATED:  # budget spent: resume after the last item read
                    number = int(i.required_text(start, "sk").removeprefix("REQ#"))
                    page = _rows(found)
                    return ExportPage(rows=page, next_cursor=export_cursor(app, number))
                params["ExclusiveStartKey"] = start
        return ExportPage(rows=_rows(found), next_cursor=None)

    # ------------------------------------------------------------------ counters

    def hit_rate_limit(self, key: str, *, window_seconds: int, now: datetime) -> int:
        """Count a hit in the fixed window containing ``now`` (one UpdateItem).

        Each window is its own item (``RATE#key`` / ``W#<start>``), expiring at
        the window's end, so a hit never meets an expired counter.
        """
        window_start = int(now.timestamp() // window_seconds * window_seconds)
        attributes = self._table.update(
            i.key(t.rate_pk(key), f"W#{window_start}"),
            f"ADD #hits :one SET #{t.TTL_ATTRIBUTE} = :expires",
            {":one": i.n(1), ":expires": i.n(window_start + window_seconds)},
            returns="UPDATED_NEW",
        )
        return int(attributes["hits"]["N"])


_MAX_NUMBER = 10**10 - 1  # request sort keys spell the number in ten digits


def _rows(items: Sequence[Item]) -> list[Row]:
    from bridge.export import export_row  # loads with the first export, not with the store

    return [export_row(i.request_of(item)) for item in items]
