"""The votes half of the DynamoDB store: votes, their counters, and GitHub tallies.

A vote is its own item beside its request (``APP#<app>`` /
``VOTE#<number>#<voter>``), so "one vote per voter" is a conditional put.
The request's counters, its listing keys (``top_key``, ``trend_key``) and its
tally bookkeeping move in the same ``TransactWriteItems`` as the vote item.

The trend is a log-sum-exp (:mod:`bridge.ranking`), which no update
expression can compute, and ``top_key`` spells the vote total: so every vote
write is optimistic. It reads the request, computes the new trend and keys
from what it read, and conditions the request update on the attributes it
derived them from (``trend``, ``total_votes`` and the tally bookkeeping) being
unchanged; counters move with ``ADD``. A concurrent write cancels the
transaction (``ConditionalCheckFailed`` or ``TransactionConflict``) and the
vote reads again and retries with jittered backoff. Per attempt: one
consistent GetItem (or BatchGetItem) and one two-item transaction.

Tallies: every vote write raises ``tally_version`` and, while it is ahead of
``tally_written_version``, keeps the request in the sparse ``tally`` index
under ``<tally_written_at>#<app>#<number>``; :meth:`record_tally` moves the
key to the new write time or takes the request out of the index. So
``due_tallies`` is one index range (written before ``now - TALLY_INTERVAL``)
and a consistent re-read of those few requests.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from msgspec.structs import replace

from bridge.domain import Request, Vote
from bridge.ports import TALLY_INTERVAL, StoreError, TallyDue
from bridge.ranking import trend_add, trend_remove
from bridge.stores import dynamodb_items as i
from bridge.stores import dynamodb_table as t
from bridge.stores.dynamodb_client import (
    ConditionFailedError,
    Table,
    TransactionCancelledError,
    names,
)
from bridge.timeutil import to_sortable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import QueryInputTypeDef, TransactWriteItemTypeDef

    from bridge.stores.dynamodb_items import Item

# A hot request (a launch, a link on a forum) has many voters at once: each
# lost race costs one more read and transaction, and backoff spreads them out.
VOTE_ATTEMPTS = 30
# Votes moved per transaction: two items each (put on the target, or check
# that the voter is there already; delete from the source) plus the two
# requests' updates, within DynamoDB's 100 items per transaction.
MOVE_CHUNK = 49
# The attributes a vote write derives its new values from.
_READ_STATE = ("trend", "total_votes", "tally_version", "tally_written_version", "tally_written_at")
_RETRYABLE = frozenset({"ConditionalCheckFailed", "TransactionConflict"})


class VotesMixin:
    """The vote and tally methods of :class:`bridge.stores.dynamodb.DynamoDBStore`."""

    _table: Table

    # ------------------------------------------------------------------ votes

    def add_vote(self, vote: Vote) -> tuple[Request, bool] | None:
        """Put the vote unless the voter voted already; counters move in the same transaction."""
        request_key = i.key(t.app_pk(vote.app), t.request_sk(vote.number))
        new_only = "attribute_not_exists(#pk)"
        put: TransactWriteItemTypeDef = {
            "Put": {
                "TableName": self._table.name,
                "Item": i.vote_item(vote),
                "ConditionExpression": new_only,
                "ExpressionAttributeNames": names(new_only),
            }
        }
        for attempt in range(VOTE_ATTEMPTS):
            item = self._table.get(request_key)
            if item is None:
                return None
            before = i.request_of(item)
            trend = trend_add(before.trend, vote.created_at, vote.weight)
            update, after = self._count(item, votes=1, weight=vote.weight, trend=trend)
            try:
                self._table.transact([put, update], token=uuid.uuid4().hex)
            except TransactionCancelledError as cancelled:
                if cancelled.code(0) == "ConditionalCheckFailed":
                    return before, False  # the voter's vote is there already
                _retry_or_raise(cancelled, attempt)
            else:
                return after, True
        raise StoreError(
            f"could not record a vote on {vote.app}#{vote.number}: too much contention"
        )

    def remove_vote(
        self, app: str, number: int, voter: str, *, now: datetime
    ) -> tuple[Request, bool] | None:
        """Delete the voter's vote, if any, and move the counters back with it."""
        request_key = i.key(t.app_pk(app), t.request_sk(number))
        vote_key = i.vote_key(app, number, voter)
        same_vote = "#weight = :weight AND #created_at = :created_at"
        for attempt in range(VOTE_ATTEMPTS):
            found = self._table.batch_get([request_key, vote_key])
            item = found.get(_pair(request_key))
            if item is None:
                return None
            before = i.request_of(item)
            vote_item = found.get(_pair(vote_key))
            if vote_item is None:
                return before, False
            vote = i.vote_of(vote_item, app, number)
            trend = trend_remove(before.trend, vote.created_at, vote.weight)
            update, after = self._count(item, votes=-1, weight=-vote.weight, trend=trend)
            delete: TransactWriteItemTypeDef = {
                "Delete": {
                    "TableName": self._table.name,
                    "Key": vote_key,
                    # The vote read, not one taken back and cast again since.
                    "ConditionExpression": same_vote,
                    "ExpressionAttributeNames": names(same_vote),
                    "ExpressionAttributeValues": {
                        ":weight": vote_item["weight"],
                        ":created_at": vote_item["created_at"],
                    },
                }
            }
            try:
                self._table.transact([delete, update], token=uuid.uuid4().hex)
            except TransactionCancelledError as cancelled:
                _retry_or_raise(cancelled, attempt)
            else:
                return after, True
        raise StoreError(f"could not take back a vote on {app}#{number}: too much contention")

    def voted(self, app: str, voter: str, numbers: Sequence[int]) -> frozenset[int]:
        """The numbers among ``numbers`` this voter voted for: one BatchGetItem of exact keys."""
        wanted = list(dict.fromkeys(numbers))
        if not wanted:
            return frozenset()
        found = self._table.batch_get([i.vote_key(app, number, voter) for number in wanted])
        pk = t.app_pk(app)
        return frozenset(number for number in wanted if (pk, t.vote_sk(number, voter)) in found)

    def move_votes(self, app: str, source: int, target: int, *, now: datetime) -> int:
        """Move the source's votes to the target, ``MOVE_CHUNK`` votes per transaction.

        Each transaction moves a chunk of votes together with both requests'
        counters, so the counters always match the vote items; a voter
        already on the target keeps that vote (a ``ConditionCheck`` that it
        is still there) and only loses the source's. Beyond one chunk the move
        is not one transaction: a failure part-way leaves the rest on the
        source, consistent, and calling again finishes the move.
        """
        if source == target:
            return 0
        pk = t.app_pk(app)
        source_key = i.key(pk, t.request_sk(source))
        target_key = i.key(pk, t.request_sk(target))
        gained = 0
        failures = 0
        while True:
            votes = self._first_votes(app, source, MOVE_CHUNK)
            target_votes = [i.vote_key(app, target, vote.voter) for vote in votes]
            found = self._table.batch_get([source_key, target_key, *target_votes])
            source_item, target_item = found.get(_pair(source_key)), found.get(_pair(target_key))
            if source_item is None or target_item is None or not votes:
                return gained
            writes: list[TransactWriteItemTypeDef] = []
            joining: list[Vote] = []
            for vote, target_vote in zip(votes, target_votes, strict=True):
                if _pair(target_vote) in found:
                    writes.append(self._still_there(target_vote))
                else:
                    joining.append(vote)
                    writes.append(self._put_new(i.vote_item(replace(vote, number=target))))
                writes.append(self._delete_vote(vote))
            update, _ = self._count(
                source_item, votes=-len(votes), weight=-sum(v.weight for v in votes), trend=None
            )
            writes.append(update)
            if joining:
                trend = i.request_of(target_item).trend
                for vote in joining:
                    trend = trend_add(trend, now, vote.weight)
                update, _ = self._count(
                    target_item,
                    votes=len(joining),
                    weight=sum(v.weight for v in joining),
                    trend=trend,
                )
                writes.append(update)
            try:
                self._table.transact(writes, token=uuid.uuid4().hex)
            except TransactionCancelledError as cancelled:
                _retry_or_raise(cancelled, failures)
                failures += 1
                if failures >= VOTE_ATTEMPTS:
                    raise StoreError(
                        f"could not move the votes of {app}#{source}: too much contention"
                    ) from None
            else:
                gained += len(joining)
                if len(votes) < MOVE_CHUNK:
                    return gained  # that was the last chunk (later votes stay, as in SQL)

    # ------------------------------------------------------------------ tallies

    def due_tallies(self, *, now: datetime, limit: int) -> Sequence[TallyDue]:
        """Tallies behind their votes and not written within the last interval, oldest first.

        The ``tally`` index gives the order (keys only); a consistent
        BatchGetItem then reads the requests, so what comes back is exact
        even when the index lags.
        """
        written_before = to_sortable(now - TALLY_INTERVAL)
        condition = "#tally_due_pk = :tally AND #tally_due_key < :bound"
        keys: list[Item] = []
        start: Item | None = None
        while len(keys) < limit:
            params: QueryInputTypeDef = {
                "TableName": self._table.name,
                "IndexName": t.TALLY_INDEX,
                "KeyConditionExpression": condition,
                "ExpressionAttributeNames": names(condition),
                "ExpressionAttributeValues": {
                    ":tally": i.s(t.TALLY_PARTITION),
                    ":bound": i.s(f"{written_before}$"),  # "$" sorts after the "#" that follows
                },
                "Limit": limit - len(keys),
            }
            if start is not None:
                params["ExclusiveStartKey"] = start
            items, start, _ = self._table.query(params)
            keys.extend(i.key(i.required_text(it, "pk"), i.required_text(it, "sk")) for it in items)
            if start is None:
                break
        fresh = self._table.batch_get(keys) if keys else {}
        due: list[TallyDue] = []
        for key in keys:
            item = fresh.get(_pair(key))
            if item is None:
                continue
            version, written, written_at = _tally(item)
            if version > written and written_at <= written_before:
                due.append(
                    TallyDue(
                        i.required_text(item, "app"), i.required_number(item, "number"), version
                    )
                )
        return due

    def record_tally(self, app: str, number: int, *, version: int, now: datetime) -> None:
        """Remember the version written and when (one read, one conditional update)."""
        request_key = i.key(t.app_pk(app), t.request_sk(number))
        for attempt in range(VOTE_ATTEMPTS):
            item = self._table.get(request_key)
            if item is None:
                return
            current, written, _ = _tally(item)
            written = max(written, version)
            written_at = to_sortable(now)
            values: Item = {":written": i.n(written), ":written_at": i.s(written_at)}
            update = "SET #tally_written_version = :written, #tally_written_at = :written_at"
            if current > written:  # newer votes wait for the next interval
                update += ", #tally_due_pk = :tally, #tally_due_key = :due"
                values[":tally"] = i.s(t.TALLY_PARTITION)
                values[":due"] = i.s(t.tally_due_key(written_at, app, number))
            else:
                update += " REMOVE #tally_due_pk, #tally_due_key"
            condition = _unchanged(item, ("tally_version", "tally_written_version"), values)
            try:
                self._table.update(request_key, update, values, condition=condition)
            except ConditionFailedError:
                _backoff(attempt)  # a vote or another tally write came first: read again
            else:
                return
        raise StoreError(f"could not record the tally of {app}#{number}: too much contention")

    # ------------------------------------------------------------------ parts

    def _count(
        self, item: Item, *, votes: int, weight: int, trend: float | None
    ) -> tuple[TransactWriteItemTypeDef, Request]:
        """The request update for a vote change, and the request it leaves.

        Conditioned on everything the new values derive from (see
        ``_READ_STATE``), so the keys written match the counters exactly.
        """
        before = i.request_of(item)
        # Never below zero, whatever an earlier upsert left in the counters.
        votes = max(votes, -before.bridge_votes)
        weight = max(weight, -before.weighted_votes)
        after = replace(
            before,
            bridge_votes=before.bridge_votes + votes,
            weighted_votes=before.weighted_votes + weight,
            trend=before.trend if trend is None else trend,
        )
        total = (i.number(item, "total_votes") or 0) + votes
        version, written, written_at = _tally(item)
        values: Item = {
            ":votes": i.n(votes),
            ":weight": i.n(weight),
            ":one": i.n(1),
            ":top_key": i.s(t.top_key(total, before.number)),
        }
        sets = ["#top_key = :top_key"]
        if trend is not None:
            sets += ["#trend = :trend", "#trend_key = :trend_key"]
            values[":trend"] = i.s(repr(trend))
            values[":trend_key"] = i.s(t.trend_key(trend, before.number))
        removes = ""
        if version + 1 > written:
            sets += ["#tally_due_pk = :tally", "#tally_due_key = :due"]
            values[":tally"] = i.s(t.TALLY_PARTITION)
            values[":due"] = i.s(t.tally_due_key(written_at, before.app, before.number))
        else:
            removes = " REMOVE #tally_due_pk, #tally_due_key"
        update = (
            f"SET {', '.join(sets)}{removes} ADD #bridge_votes :votes, #weighted_votes :weight,"
            " #total_votes :votes, #tally_version :one"
        )
        state = _READ_STATE if trend is not None else _READ_STATE[1:]
        condition = _unchanged(item, state, values)
        return {
            "Update": {
                "TableName": self._table.name,
                "Key": i.key(i.required_text(item, "pk"), i.required_text(item, "sk")),
                "UpdateExpression": update,
                "ConditionExpression": condition,
                "ExpressionAttributeNames": names(update, condition),
                "ExpressionAttributeValues": values,
            }
        }, after

    def _first_votes(self, app: str, number: int, limit: int) -> list[Vote]:
        condition = "#pk = :pk AND begins_with(#sk, :prefix)"
        params: QueryInputTypeDef = {
            "TableName": self._table.name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names(condition),
            "ExpressionAttributeValues": {
                ":pk": i.s(t.app_pk(app)),
                ":prefix": i.s(t.vote_prefix(number)),
            },
            "ConsistentRead": True,
            "Limit": limit,
        }
        items, _, _ = self._table.query(params)
        return [i.vote_of(item, app, number) for item in items]

    def _put_new(self, item: Item) -> TransactWriteItemTypeDef:
        new_only = "attribute_not_exists(#pk)"
        return {
            "Put": {
                "TableName": self._table.name,
                "Item": item,
                "ConditionExpression": new_only,
                "ExpressionAttributeNames": names(new_only),
            }
        }

    def _still_there(self, key: Item) -> TransactWriteItemTypeDef:
        exists = "attribute_exists(#pk)"
        return {
            "ConditionCheck": {
                "TableName": self._table.name,
                "Key": key,
                "ConditionExpression": exists,
                "ExpressionAttributeNames": names(exists),
            }
        }

    def _delete_vote(self, vote: Vote) -> TransactWriteItemTypeDef:
        same_vote = "#weight = :weight AND #created_at = :created_at"
        return {
            "Delete": {
                "TableName": self._table.name,
                "Key": i.vote_key(vote.app, vote.number, vote.voter),
                "ConditionExpression": same_vote,
                "ExpressionAttributeNames": names(same_vote),
                "ExpressionAttributeValues": {
                    ":weight": i.n(vote.weight),
                    ":created_at": i.s(to_sortable(vote.created_at)),
                },
            }
        }


def _unchanged(item: Item, attributes: Sequence[str], values: Item) -> str:
    """A condition: the item exists and each attribute still holds the value read."""
    parts = ["attribute_exists(#pk)"]
    for name in attributes:
        if name in item:
            values[f":was_{name}"] = item[name]
            parts.append(f"#{name} = :was_{name}")
        else:
            parts.append(f"attribute_not_exists(#{name})")
    return " AND ".join(parts)


def _tally(item: Item) -> tuple[int, int, str]:
    """``(tally_version, tally_written_version, tally_written_at)`` of a request item."""
    return (
        i.number(item, "tally_version") or 0,
        i.number(item, "tally_written_version") or 0,
        i.text(item, "tally_written_at") or t.NEVER_WRITTEN,
    )


def _pair(key: Item) -> tuple[str, str]:
    return key["pk"]["S"], key["sk"]["S"]


def _retry_or_raise(cancelled: TransactionCancelledError, attempt: int) -> None:
    """Back off when a concurrent write won the race; anything else is a StoreError."""
    codes = {cancelled.code(n) for n in range(len(cancelled.reasons))}
    if not _RETRYABLE & codes:
        raise StoreError(f"DynamoDB transaction cancelled: {cancelled.reasons}") from None
    _backoff(attempt)


def _backoff(attempt: int) -> None:
    """Full jitter, growing to at most 0.32 s: contenders on one item spread out."""
    time.sleep(random.uniform(0, 0.005 * 2 ** min(attempt, 6)))  # noqa: S311 -- jitter, not crypto
