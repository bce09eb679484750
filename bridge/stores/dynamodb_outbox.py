"""The outbox half of the DynamoDB store: submissions on their way to GitHub.

A submission is created with ``attribute_not_exists``, together with its
Idempotency-Key in one ``TransactWriteItems`` (so racing repeats make exactly
one); a lease is claimed by one ``UpdateItem`` whose condition is "undelivered
and not leased, or the lease ran out"; a delivery marks the submission,
indexes its request and casts the submitter's vote in one transaction.
Undelivered submissions carry the ``due`` index's keys; delivery removes them,
so the index stays as small as the backlog.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from msgspec.structs import replace

from bridge.domain import Hold, Request, Submission, Vote
from bridge.ports import (
    HoldChange,
    IdempotencyClaim,
    IdempotencyConflictError,
    OutboxStats,
    RateHit,
    RateLimitedError,
    RepeatCheck,
    StoreError,
    SubmissionPage,
)
from bridge.stores import dynamodb_items as i
from bridge.stores import dynamodb_table as t
from bridge.stores.codec import (
    moderation_to_json,
    review_cursor,
    review_position,
    sendable_cursor,
    sendable_position,
)
from bridge.stores.dynamodb_client import (
    ConditionFailedError,
    Table,
    TransactionCancelledError,
    backoff,
    names,
)
from bridge.timeutil import parse_iso, to_sortable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import QueryInputTypeDef, TransactWriteItemTypeDef

    from bridge.stores.dynamodb_items import Item

TRANSACTION_ATTEMPTS = 6
_UNDELIVERED = "attribute_exists(#pk) AND #delivered = :false"
# A lost race on a submission's hold is asked again this often before giving up.
HOLD_ATTEMPTS = 5


class OutboxMixin:
    """The outbox methods of :class:`bridge.stores.dynamodb.DynamoDBStore`."""

    _table: Table

    if TYPE_CHECKING:  # DynamoDBStore's own

        def hit_rate_limit(self, key: str, *, window_seconds: int, now: datetime) -> int: ...

    def create_submission(
        self,
        submission: Submission,
        *,
        idempotency: IdempotencyClaim | None,
        now: datetime,
        rate: RateHit | None = None,
        repeat: RepeatCheck | None = None,
        lease_until: datetime | None = None,
    ) -> tuple[Submission, bool]:
        """Store a submission, or return the one its live idempotency key made.

        The rate and repeat counters are UpdateItems of their own first (in a
        transaction each would cost twice the write units); the lease rides on
        the submission's item.
        """
        if rate is not None and rate.limit < self.hit_rate_limit(
            rate.key, window_seconds=rate.window_seconds, now=now
        ):
            raise RateLimitedError(rate)
        if (
            repeat is not None
            and self.hit_rate_limit(repeat.key, window_seconds=repeat.window_seconds, now=now) > 1
        ):
            submission = replace(submission, hold=repeat.hold, signals=repeat.signals)
        lease = lease_until if submission.may_be_sent else None  # a held one is not sent
        item = i.submission_item(submission, lease_until=lease)
        if lease is not None:
            submission = replace(submission, attempts=1)
        new_only = "attribute_not_exists(#pk)"
        if idempotency is None:
            try:
                self._table.put(item, condition=new_only)
            except ConditionFailedError:
                return self._existing(submission.id), False
            return submission, True
        key_key = i.key(t.idempotency_pk(submission.app, idempotency.key), "IDEM")
        key_item: Item = {
            **key_key,
            "fingerprint": i.s(idempotency.fingerprint),
            "submission_id": i.s(submission.id),
            t.TTL_ATTRIBUTE: i.n(i.epoch_seconds(idempotency.expires_at)),
        }
        orphan: str | None = None  # a live key whose submission is gone may be taken over
        for attempt in range(TRANSACTION_ATTEMPTS):
            free = f"attribute_not_exists(#pk) OR #{t.TTL_ATTRIBUTE} <= :now"
            values: Item = {":now": i.n(i.epoch_now(now))}
            if orphan is not None:
                free += " OR #submission_id = :orphan"
                values[":orphan"] = i.s(orphan)
            try:
                self._table.transact(
                    [
                        {
                            "Put": {
                                "TableName": self._table.name,
                                "Item": key_item,
                                "ConditionExpression": free,
                                "ExpressionAttributeNames": names(free),
                                "ExpressionAttributeValues": values,
                                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                            }
                        },
                        {
                            "Put": {
                                "TableName": self._table.name,
                                "Item": item,
                                "ConditionExpression": new_only,
                                "ExpressionAttributeNames": names(new_only),
                            }
                        },
                    ]
                )
            except TransactionCancelledError as cancelled:
                if cancelled.code(0) == "ConditionalCheckFailed":
                    held = cancelled.item(0) or self._table.get(key_key)
                    if held is None or not i.is_live(held, now):
                        continue  # the key vanished or expired since: try again
                    holder = i.required_text(held, "submission_id")
                    if i.required_text(held, "fingerprint") != idempotency.fingerprint:
                        raise IdempotencyConflictError(holder) from None
                    existing = self.get_submission(holder)
                    if existing is not None:
                        return existing, False
                    orphan = holder
                elif cancelled.code(1) == "ConditionalCheckFailed":
                    return self._existing(submission.id), False
                elif "TransactionConflict" in {cancelled.code(0), cancelled.code(1)}:
                    backoff(attempt)
                else:
                    raise StoreError(
                        f"DynamoDB transaction cancelled: {cancelled.reasons}"
                    ) from None
            else:
                return submission, True
        raise StoreError(f"could not store submission {submission.id}: too much contention")

    def _existing(self, submission_id: str) -> Submission:
        existing = self.get_submission(submission_id)
        if existing is None:
            raise StoreError(f"submission {submission_id} exists and vanished again")
        return existing

    def get_submission(self, submission_id: str) -> Submission | None:
        """The submission with this id (a strongly consistent read)."""
        item = self._table.get(i.key(t.submission_pk(submission_id), t.SUBMISSION_SK))
        return i.submission_of(item) if item is not None else None

    def due_submissions(self, *, now: datetime, limit: int) -> Sequence[Submission]:
        """Undelivered submissions due for an attempt, oldest due first.

        The sparse ``due`` index gives the order (keys only), then one
        consistent BatchGetItem reads the submissions themselves.
        """
        keys: list[Item] = []
        start: Item | None = None
        condition = "#due_pk = :outbox AND #due_key < :bound"
        unleased = "attribute_not_exists(#lease_until) OR #lease_until <= :now"
        while len(keys) < limit:
            params: QueryInputTypeDef = {
                "TableName": self._table.name,
                "IndexName": t.DUE_INDEX,
                "KeyConditionExpression": condition,
                "FilterExpression": unleased,
                "ExpressionAttributeNames": names(condition, unleased),
                "ExpressionAttributeValues": {
                    ":outbox": i.s(t.DUE_PARTITION),
                    ":bound": i.s(t.due_bound(now)),
                    ":now": i.s(to_sortable(now)),
                },
                "Limit": limit + 8,
            }
            if start is not None:
                params["ExclusiveStartKey"] = start
            items, start, _ = self._table.query(params)
            keys.extend(i.key(i.required_text(it, "pk"), t.SUBMISSION_SK) for it in items)
            if start is None:
                break
        fresh = self._table.batch_get(keys[:limit])
        ordered = (fresh.get((i.required_text(k, "pk"), t.SUBMISSION_SK)) for k in keys[:limit])
        return [i.submission_of(it) for it in ordered if it is not None and i.is_claimable(it, now)]

    def claim_submission(
        self, submission_id: str, *, now: datetime, lease_until: datetime
    ) -> Submission | None:
        """Lease an undelivered submission unless another worker holds it."""
        try:
            before = self._table.update(
                i.key(t.submission_pk(submission_id), t.SUBMISSION_SK),
                "SET #lease_until = :lease, #in_flight = :true ADD #attempts :one",
                {
                    ":lease": i.s(to_sortable(lease_until)),
                    ":true": i.flag(True),
                    ":false": i.flag(False),
                    ":one": i.n(1),
                    ":now": i.s(to_sortable(now)),
                },
                condition=f"{_UNDELIVERED} AND attribute_not_exists(#hold) AND"
                " (attribute_not_exists(#lease_until) OR #lease_until <= :now)",
                returns="ALL_OLD",
            )
        except ConditionFailedError:
            return None
        previous = i.submission_of(before)
        # outcome_unknown stays the *previous* attempt's: its in_flight flag.
        return replace(previous, attempts=previous.attempts + 1)

    def record_failed_attempt(
        self,
        submission_id: str,
        *,
        error: str,
        next_attempt_at: datetime,
        outcome_unknown: bool = False,
    ) -> None:
        """Release the lease and schedule the next attempt."""
        try:
            self._table.update(
                i.key(t.submission_pk(submission_id), t.SUBMISSION_SK),
                "SET #last_error = :error, #next_attempt_at = :next, #due_key = :due,"
                " #in_flight = :unknown REMOVE #lease_until",
                {
                    ":error": i.s(error[:1000]),
                    ":next": i.s(to_sortable(next_attempt_at)),
                    ":due": i.s(t.due_key(next_attempt_at, submission_id)),
                    ":unknown": i.flag(outcome_unknown),
                    ":false": i.flag(False),
                },
                condition=_UNDELIVERED,
            )
        except ConditionFailedError:
            return  # delivered meanwhile, or unknown: nothing to schedule

    def postpone(self, submission_id: str, *, until: datetime) -> None:
        """Move the next attempt without spending one."""
        try:
            self._table.update(
                i.key(t.submission_pk(submission_id), t.SUBMISSION_SK),
                "SET #next_attempt_at = :next, #due_key = :due",
                {
                    ":next": i.s(to_sortable(until)),
                    ":due": i.s(t.due_key(until, submission_id)),
                    ":false": i.flag(False),
                },
                condition=_UNDELIVERED,
            )
        except ConditionFailedError:
            return

    def release_lease(self, submission_id: str, *, until: datetime) -> None:
        """Undo an unstarted attempt's lease; the next attempt is due at ``until``."""
        try:
            self._table.update(
                i.key(t.submission_pk(submission_id), t.SUBMISSION_SK),
                "SET #next_attempt_at = :next, #due_key = :due, #in_flight = :false"
                " ADD #attempts :minus REMOVE #lease_until",
                {
                    ":next": i.s(to_sortable(until)),
                    ":due": i.s(t.due_key(until, submission_id)),
                    ":false": i.flag(False),
                    ":minus": i.n(-1),
                },
                condition=_UNDELIVERED,
            )
        except ConditionFailedError:
            return

    def mark_delivered(self, submission_id: str, request: Request) -> None:
        """Record the issue, index the request and cast the submitter's vote, in one transaction.

        The request is written with an update that keeps its tally
        bookkeeping (a webhook may have indexed it first); the submitter's
        vote (already counted in ``request.bridge_votes``) is put only if that
        voter has none on it yet.
        """
        submission_key = i.key(t.submission_pk(submission_id), t.SUBMISSION_SK)
        held = self._table.get(submission_key)
        if held is None:
            raise StoreError(f"no submission {submission_id} to mark delivered")
        submission = i.submission_of(held)
        update = (
            "SET #delivered = :true, #in_flight = :false, #number = :number, #url = :url"
            " REMOVE #lease_until, #last_error, #due_pk, #due_key"
        )
        exists = "attribute_exists(#pk)"
        request_update, request_values = i.request_update(request)
        writes: list[TransactWriteItemTypeDef] = [
            {
                "Update": {
                    "TableName": self._table.name,
                    "Key": submission_key,
                    "UpdateExpression": update,
                    "ConditionExpression": exists,
                    "ExpressionAttributeNames": names(update, exists),
                    "ExpressionAttributeValues": {
                        ":true": i.flag(True),
                        ":false": i.flag(False),
                        ":number": i.n(request.number),
                        ":url": i.s(request.url),
                    },
                }
            },
            {
                "Update": {
                    "TableName": self._table.name,
                    "Key": i.key(t.app_pk(request.app), t.request_sk(request.number)),
                    "UpdateExpression": request_update,
                    "ExpressionAttributeNames": names(request_update),
                    "ExpressionAttributeValues": request_values,
                }
            },
        ]
        description = i.description_write(self._table.name, request)
        if description is not None:
            writes.append(description)
        vote_at = len(writes)
        if submission.voter is not None:
            vote = Vote(
                request.app,
                request.number,
                submission.voter,
                request.created_at,
                weight=submission.voter_weight,
            )
            new_only = "attribute_not_exists(#pk)"
            writes.append(
                {
                    "Put": {
                        "TableName": self._table.name,
                        "Item": i.vote_item(vote),
                        "ConditionExpression": new_only,
                        "ExpressionAttributeNames": names(new_only),
                    }
                }
            )
        for attempt in range(TRANSACTION_ATTEMPTS):
            try:
                self._table.transact(writes)
            except TransactionCancelledError as cancelled:
                codes = [cancelled.code(n) for n in range(len(writes))]
                if codes[0] == "ConditionalCheckFailed":
                    raise StoreError(f"no submission {submission_id} to mark delivered") from None
                if codes[vote_at:] == ["ConditionalCheckFailed"]:
                    writes = writes[:vote_at]  # the voter's vote is there already: keep it
                    continue
                if "TransactionConflict" not in codes:
                    raise StoreError(
                        f"DynamoDB transaction cancelled: {cancelled.reasons}"
                    ) from None
                backoff(attempt)
            else:
                return
        raise StoreError(f"could not mark {submission_id} delivered: too much contention")

    def _outbox_keys(self, *, projection: str) -> Iterator[Item]:
        """Every sendable undelivered submission's ``due`` index entry, ``projection`` only."""
        start: Item | None = None
        condition = "#due_pk = :outbox"
        while True:
            params: QueryInputTypeDef = {
                "TableName": self._table.name,
                "IndexName": t.DUE_INDEX,
                "KeyConditionExpression": condition,
                "ProjectionExpression": projection,
                "ExpressionAttributeNames": names(condition, projection),
                "ExpressionAttributeValues": {":outbox": i.s(t.DUE_PARTITION)},
            }
            if start is not None:
                params["ExclusiveStartKey"] = start
            items, start, _ = self._table.query(params)
            yield from items
            if start is None:
                return

    def queue_is_full(self, app: str, cap: int) -> bool:
        """Counts the outbox's small index entries; only when the whole backlog reaches
        ``cap`` (a flood, somewhere) does it read those submissions to count ``app``'s."""
        keys = [
            i.key(i.required_text(it, "pk"), t.SUBMISSION_SK)
            for it in self._outbox_keys(projection="#pk")
        ]
        if len(keys) < cap:
            return False
        mine = 0
        for start in range(0, len(keys), 100):
            found = self._table.batch_get(keys[start : start + 100])
            mine += sum(1 for item in found.values() if i.text(item, "app") == app)
            if mine >= cap:
                return True
        return False

    def change_hold(self, submission_id: str, change: HoldChange) -> Submission | None:
        """A conditional update on the hold and moderation attributes as they were read."""
        submission_key = i.key(t.submission_pk(submission_id), t.SUBMISSION_SK)
        for _ in range(HOLD_ATTEMPTS):
            item = self._table.get(submission_key)
            if item is None:
                return None
            current = i.submission_of(item)
            changed = change(current)
            if changed is None:
                return current
            due_pk, due_key = i.due_keys(changed)
            next_attempt_at = changed.next_attempt_at or changed.created_at
            values: Item = {
                ":false": i.flag(False),
                ":in_flight_was": i.flag(current.outcome_unknown),
                ":due_pk": i.s(due_pk),
                ":due_key": i.s(due_key),
                ":next": i.s(to_sortable(next_attempt_at)),
            }
            sets = ["#due_pk = :due_pk", "#due_key = :due_key", "#next_attempt_at = :next"]
            removes: list[str] = []
            # Unchanged since read, in flight included: a delivery that claimed it since
            # (setting in_flight) wins, and the change is decided again.
            conditions = [_UNDELIVERED, "#in_flight = :in_flight_was"]
            for attribute, new, old in (
                ("hold", changed.hold.value if changed.hold else None, i.text(item, "hold")),
                (
                    "moderation",
                    moderation_to_json(changed.signals, changed.decisions),
                    i.text(item, "moderation"),
                ),
            ):
                if new is None:
                    removes.append(f"#{attribute}")
                else:
                    sets.append(f"#{attribute} = :{attribute}")
                    values[f":{attribute}"] = i.s(new)
                if old is None:
                    conditions.append(f"attribute_not_exists(#{attribute})")
                else:
                    conditions.append(f"#{attribute} = :old_{attribute}")
                    values[f":old_{attribute}"] = i.s(old)
            update = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
            try:
                after = self._table.update(
                    submission_key,
                    update,
                    values,
                    condition=" AND ".join(conditions),
                    returns="ALL_NEW",
                )
            except ConditionFailedError:
                continue  # changed (or delivered) since it was read: decide again
            return i.submission_of(after)
        raise StoreError(f"could not change the hold of {submission_id}: too much contention")

    def held_submissions(
        self, app: str, hold: Hold, *, limit: int, cursor: str | None
    ) -> SubmissionPage:
        """The hold's ``due`` index partition of the app, oldest first, then the items."""
        condition = "#due_pk = :held"
        values: Item = {":held": i.s(t.hold_partition(hold, app))}
        if cursor:
            created_at, after_id = review_position(cursor)
            condition += " AND #due_key > :after"
            values[":after"] = i.s(f"{created_at}#{after_id}")
        params: QueryInputTypeDef = {
            "TableName": self._table.name,
            "IndexName": t.DUE_INDEX,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names(condition),
            "ExpressionAttributeValues": values,
            "Limit": limit + 1,
        }
        entries, _, _ = self._table.query(params)
        keys = [i.key(i.required_text(it, "pk"), t.SUBMISSION_SK) for it in entries[:limit]]
        found = self._table.batch_get(keys)
        items = [
            i.submission_of(item)
            for k in keys
            if (item := found.get((i.required_text(k, "pk"), t.SUBMISSION_SK))) is not None
            and i.text(item, "hold") == hold.value
        ]
        if len(entries) <= limit:
            return SubmissionPage(items=items, next_cursor=None)
        created_at, last_id = i.required_text(entries[limit - 1], "due_key").rsplit("#", 1)
        return SubmissionPage(items=items, next_cursor=review_cursor(created_at, last_id))

    def sendable_submissions(
        self, *, retrying: bool, limit: int, cursor: str | None
    ) -> SubmissionPage:
        """The outbox partition of the ``due`` index in order, then the submissions it names
        (their attempts are not in the index), a page of ``limit`` of the asked kind."""
        after = "#".join(sendable_position(cursor)) if cursor else None
        found: list[Submission] = []
        start: Item | None = None
        condition = "#due_pk = :outbox" + (" AND #due_key > :after" if after else "")
        values: Item = {":outbox": i.s(t.DUE_PARTITION)}
        if after:
            values[":after"] = i.s(after)
        while len(found) <= limit:
            params: QueryInputTypeDef = {
                "TableName": self._table.name,
                "IndexName": t.DUE_INDEX,
                "KeyConditionExpression": condition,
                "ExpressionAttributeNames": names(condition),
                "ExpressionAttributeValues": values,
                "Limit": 100,
            }
            if start is not None:
                params["ExclusiveStartKey"] = start
            entries, start, _ = self._table.query(params)
            keys = [i.key(i.required_text(it, "pk"), t.SUBMISSION_SK) for it in entries]
            items = self._table.batch_get(keys)
            for k in keys:
                item = items.get((i.required_text(k, "pk"), t.SUBMISSION_SK))
                if item is None or "hold" in item or i.boolean(item, "delivered"):
                    continue
                submission = i.submission_of(item)
                if (submission.attempts > 0) is retrying:
                    found.append(submission)
            if start is None:
                break
        if len(found) <= limit:
            return SubmissionPage(items=found, next_cursor=None)
        last = found[limit - 1]
        next_attempt = last.next_attempt_at or last.created_at
        due_time, _ = t.due_key(next_attempt, last.id).rsplit("#", 1)
        return SubmissionPage(items=found[:limit], next_cursor=sendable_cursor(due_time, last.id))

    def outbox_depths(self, apps: Sequence[str]) -> dict[str, int]:
        """The keys of each app's hold partitions, and the outbox's submissions read for their
        attempts (the index does not carry them): cost grows with the backlog."""
        depths = {"pending": 0, "retrying": 0}
        for hold in Hold:
            depths[hold.value] = 0
            for app in apps:
                condition = "#due_pk = :held"
                start: Item | None = None
                while True:
                    params: QueryInputTypeDef = {
                        "TableName": self._table.name,
                        "IndexName": t.DUE_INDEX,
                        "KeyConditionExpression": condition,
                        "ProjectionExpression": "#pk",
                        "ExpressionAttributeNames": names(condition, "#pk"),
                        "ExpressionAttributeValues": {":held": i.s(t.hold_partition(hold, app))},
                    }
                    if start is not None:
                        params["ExclusiveStartKey"] = start
                    entries, start, _ = self._table.query(params)
                    depths[hold.value] += len(entries)
                    if start is None:
                        break
        keys = [
            i.key(i.required_text(it, "pk"), t.SUBMISSION_SK)
            for it in self._outbox_keys(projection="#pk")
        ]
        for item in self._table.batch_get(keys).values():
            depths["retrying" if (i.number(item, "attempts") or 0) > 0 else "pending"] += 1
        return depths

    def outbox_stats(self) -> OutboxStats:
        """How many submissions wait, and the oldest one's creation time.

        Reads the ``due`` index's small projection (key + ``created_at``) of
        every sendable undelivered submission: cost grows with the backlog, not the table.
        """
        pending = 0
        oldest: str | None = None
        for item in self._outbox_keys(projection="#created_at"):
            pending += 1
            created = i.required_text(item, "created_at")
            oldest = created if oldest is None or created < oldest else oldest
        return OutboxStats(pending=pending, oldest_created_at=parse_iso(oldest) if oldest else None)
