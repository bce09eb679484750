"""The GitHub half of the DynamoDB store: webhook and sync changes, installations.

One call becomes one ``TransactWriteItems`` (DynamoDB takes up to 100 items in
one): the synced requests, the removed ones, the installation's repositories,
and, last, the delivery id with its expiry. A new request is put (only if it
is still new); a known one gets an update of GitHub's fields alone, which
leaves the bridge's own (votes, source, submission) and the vote tally
bookkeeping as they are. Its vote total (and ``top_key``) counts the bridge's
votes as read first, so the update is conditional on them being unchanged: a
vote landing in between makes the transaction retry. A change strictly older
than the index's (by the issue's ``updated_at``) writes nothing. A removed
request leaves its bridge-owned fields behind in a ``LEFT#`` item, which
restores them when the issue comes back to the app.

Bigger changes (a sync page near 100 issues plus repositories) are split into
several transactions with the delivery id in the last one: if one fails, the
id is not recorded and the redelivery re-applies everything, which is
harmless because every write sets state rather than adding to it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from msgspec.structs import replace

from bridge.domain import Request, Source
from bridge.ports import DELIVERY_TTL, GitHubChanges, InstallationChange, StoreError, SyncMarks
from bridge.stores import dynamodb_items as i
from bridge.stores import dynamodb_table as t
from bridge.stores.dynamodb_client import Table, TransactionCancelledError, backoff, names
from bridge.stores.dynamodb_outbox import TRANSACTION_ATTEMPTS
from bridge.timeutil import parse_iso, to_sortable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import QueryInputTypeDef, TransactWriteItemTypeDef

    from bridge.stores.dynamodb_items import Item

_TRANSACTION_ITEMS = 100
# What a request keeps while it is out of its app (and the timestamp that orders changes).
_DEPARTED = ("source", "submission_id", "bridge_votes", "weighted_votes", "updated_at")


class GitHubMixin:
    """The GitHub methods of :class:`bridge.stores.dynamodb.DynamoDBStore`."""

    _table: Table

    def record_github_changes(
        self, changes: GitHubChanges, *, delivery_id: str | None, now: datetime
    ) -> bool:
        """Apply GitHub's changes, at most once per live delivery id."""
        marker = i.key(t.delivery_pk(delivery_id), "DELIVERY") if delivery_id else None
        for attempt in range(TRANSACTION_ATTEMPTS):
            if marker is not None:
                seen = self._table.get(marker)
                if seen is not None and i.is_live(seen, now):
                    return False
            writes = self._writes(changes)
            if marker is not None:
                writes.append(self._marker_put(marker, now))
            chunks = [
                writes[n : n + _TRANSACTION_ITEMS]
                for n in range(0, len(writes), _TRANSACTION_ITEMS)
            ]
            chunk: list[TransactWriteItemTypeDef] = []
            try:
                for chunk in chunks:
                    self._table.transact(chunk)
            except TransactionCancelledError as cancelled:
                last = cancelled.code(len(chunk) - 1)
                if marker is not None and chunk is chunks[-1] and last == "ConditionalCheckFailed":
                    return False  # a concurrent redelivery recorded it first
                codes = {cancelled.code(n) for n in range(len(chunk))}
                if not {"ConditionalCheckFailed", "TransactionConflict"} & codes:
                    raise StoreError(f"DynamoDB transaction cancelled: {codes}") from None
                backoff(attempt)  # a request changed since it was read: read again
            else:
                return True
        raise StoreError("could not apply GitHub changes: too much contention")

    def installed_repos(self) -> frozenset[str]:
        """Repositories the App is installed on."""
        return frozenset(i.required_text(item, "repo") for item in self._installations())

    def sync_marks(self, app: str) -> SyncMarks:
        """The app's sync marks: one item of its own (a strongly consistent read)."""
        item = self._table.get(i.key(t.sync_pk(app), "SYNC"))
        if item is None:
            return SyncMarks()
        since, full_at = i.text(item, "since"), i.text(item, "full_at")
        return SyncMarks(
            since=parse_iso(since) if since else None,
            full_at=parse_iso(full_at) if full_at else None,
        )

    def record_sync(self, app: str, marks: SyncMarks) -> None:
        """Put the app's sync marks item (the last pass to finish wins)."""
        item: Item = i.key(t.sync_pk(app), "SYNC")
        if marks.since is not None:
            item["since"] = i.s(to_sortable(marks.since))
        if marks.full_at is not None:
            item["full_at"] = i.s(to_sortable(marks.full_at))
        self._table.put(item)

    # ------------------------------------------------------------------ writes

    def _writes(self, changes: GitHubChanges) -> list[TransactWriteItemTypeDef]:
        """One write per item, later changes winning (sync, then removal, then repos)."""
        writes: dict[tuple[str, str], TransactWriteItemTypeDef] = {}
        keys = [i.key(t.app_pk(r.app), t.request_sk(r.number)) for r in changes.synced]
        keys += [i.key(t.app_pk(r.app), t.departed_sk(r.number)) for r in changes.synced]
        keys += [i.key(t.app_pk(app), t.request_sk(number)) for app, number in changes.removed]
        existing = self._table.batch_get(_unique(keys)) if keys else {}
        for request in changes.synced:
            pk = t.app_pk(request.app)
            sk, left = t.request_sk(request.number), t.departed_sk(request.number)
            write = self._sync_write(request, existing.get((pk, sk)), existing.get((pk, left)))
            if write is None:
                continue
            writes[pk, sk] = write
            if (pk, left) in existing:
                writes[pk, left] = {
                    "Delete": {"TableName": self._table.name, "Key": i.key(pk, left)}
                }
            description = i.description_write(self._table.name, request)
            if description is not None:
                writes[pk, t.text_sk(request.number)] = description
        for app, number in changes.removed:
            pk, sk, text = t.app_pk(app), t.request_sk(number), t.text_sk(number)
            writes.update(self._departure_writes(pk, number, existing.get((pk, sk))))
            writes[pk, text] = {"Delete": {"TableName": self._table.name, "Key": i.key(pk, text)}}
        if changes.installation is not None:
            writes.update(self._installation_writes(changes.installation))
        return list(writes.values())

    def _sync_write(
        self, request: Request, existing: Item | None, departed: Item | None
    ) -> TransactWriteItemTypeDef | None:
        """The write that brings GitHub's view in; None when it is older than the index's."""
        kept = existing if existing is not None else departed
        if kept is not None and i.required_text(kept, "updated_at") > to_sortable(
            request.updated_at
        ):
            return None
        if existing is None:
            if departed is not None:
                request = replace(
                    request,
                    bridge_votes=i.number(departed, "bridge_votes") or 0,
                    weighted_votes=i.number(departed, "weighted_votes") or 0,
                    source=Source(i.required_text(departed, "source")),
                    submission_id=i.text(departed, "submission_id"),
                )
            new_only = "attribute_not_exists(#pk)"
            return {
                "Put": {
                    "TableName": self._table.name,
                    "Item": i.request_item(request),
                    "ConditionExpression": new_only,
                    "ExpressionAttributeNames": names(new_only),
                }
            }
        # GitHub's fields only: the bridge's own, the tally bookkeeping and
        # the votes stay. total_votes and top_key count the bridge's votes as
        # read, so the update holds only while they are unchanged (and while
        # no newer change has landed).
        merged = replace(
            request,
            bridge_votes=i.number(existing, "bridge_votes") or 0,
            weighted_votes=i.number(existing, "weighted_votes") or 0,
        )
        update, values = i.request_update(merged, keep=i.BRIDGE_OWNED)
        condition = (
            "attribute_exists(#pk) AND #bridge_votes = :bridge_votes AND #updated_at <= :updated_at"
        )
        values[":bridge_votes"] = i.n(merged.bridge_votes)
        return {
            "Update": {
                "TableName": self._table.name,
                "Key": i.key(t.app_pk(request.app), t.request_sk(request.number)),
                "UpdateExpression": update,
                "ConditionExpression": condition,
                "ExpressionAttributeNames": names(update, condition),
                "ExpressionAttributeValues": values,
            }
        }

    def _departure_writes(
        self, pk: str, number: int, existing: Item | None
    ) -> dict[tuple[str, str], TransactWriteItemTypeDef]:
        """Take a request out of the index, keeping what only the bridge knows of it."""
        sk = t.request_sk(number)
        if existing is None:
            return {(pk, sk): {"Delete": {"TableName": self._table.name, "Key": i.key(pk, sk)}}}
        unchanged = "#bridge_votes = :bridge_votes"
        kept: Item = {
            **i.key(pk, t.departed_sk(number)),
            **{name: existing[name] for name in _DEPARTED if name in existing},
        }
        # What is kept comes first, should a big change be split across transactions.
        return {
            (pk, t.departed_sk(number)): {"Put": {"TableName": self._table.name, "Item": kept}},
            (pk, sk): {
                "Delete": {
                    "TableName": self._table.name,
                    "Key": i.key(pk, sk),
                    # The counters kept are the ones read: a vote in between retries.
                    "ConditionExpression": unchanged,
                    "ExpressionAttributeNames": names(unchanged),
                    "ExpressionAttributeValues": {":bridge_votes": existing["bridge_votes"]},
                }
            },
        }

    def _installation_writes(
        self, change: InstallationChange
    ) -> dict[tuple[str, str], TransactWriteItemTypeDef]:
        writes: dict[tuple[str, str], TransactWriteItemTypeDef] = {}
        gone = list(change.removed)
        if change.uninstalled:
            gone = [
                i.required_text(item, "repo")
                for item in self._installations()
                if i.number(item, "installation_id") == change.installation_id
            ] + gone
        for repo in gone:
            key = (t.INSTALL_PARTITION, f"REPO#{repo}")
            writes[key] = {"Delete": {"TableName": self._table.name, "Key": i.key(*key)}}
        for repo in change.added:
            key = (t.INSTALL_PARTITION, f"REPO#{repo}")
            item: Item = {
                **i.key(*key),
                "repo": i.s(repo),
                "installation_id": i.n(change.installation_id),
                "account": i.s(change.account),
            }
            writes[key] = {"Put": {"TableName": self._table.name, "Item": item}}
        return writes

    def _marker_put(self, marker: Item, now: datetime) -> TransactWriteItemTypeDef:
        free = f"attribute_not_exists(#pk) OR #{t.TTL_ATTRIBUTE} <= :now"
        return {
            "Put": {
                "TableName": self._table.name,
                "Item": {**marker, t.TTL_ATTRIBUTE: i.n(i.epoch_seconds(now + DELIVERY_TTL))},
                "ConditionExpression": free,
                "ExpressionAttributeNames": names(free),
                "ExpressionAttributeValues": {":now": i.n(i.epoch_now(now))},
            }
        }

    def _installations(self) -> list[Item]:
        found: list[Item] = []
        condition = "#pk = :install"
        params: QueryInputTypeDef = {
            "TableName": self._table.name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names(condition),
            "ExpressionAttributeValues": {":install": i.s(t.INSTALL_PARTITION)},
            "ConsistentRead": True,
        }
        while True:
            items, start, _ = self._table.query(params)
            found.extend(items)
            if start is None:
                return found
            params["ExclusiveStartKey"] = start


def _unique(keys: list[Item]) -> list[Item]:
    seen: dict[tuple[str, str], Item] = {}
    for key in keys:
        seen.setdefault((key["pk"]["S"], key["sk"]["S"]), key)
    return list(seen.values())
