"""The DynamoDB index's share of outgoing events: event claims and deliveries.

=====================  ==============================  ==============================
item                   pk                              sk
=====================  ==============================  ==============================
event claim            ``EVENT#<key>``                 ``EVENT``
notification delivery  ``NOTIFY``                      ``<delivery id>``
=====================  ==============================  ==============================

Delivery ids begin with their creation time, so the ``NOTIFY`` partition read
backwards lists the latest first. A pending delivery carries the ``due``
index's keys under the partition ``NOTIFY`` (submissions use ``OUTBOX``), so
due deliveries are one index query. Both kinds expire through the table's TTL
(claims when their horizon passes, deliveries after 30 days).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, cast

from bridge.notify.model import DeliveryState, NotificationDelivery
from bridge.stores import dynamodb_items as i
from bridge.stores import dynamodb_table as t
from bridge.stores.dynamodb_client import ConditionFailedError, Table, names

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, QueryInputTypeDef

    from bridge.stores.dynamodb_items import Item

NOTIFY_PARTITION = "NOTIFY"
KEEP_DELIVERIES = timedelta(days=30)
# Items a filtered listing of recent deliveries reads at most.
MAX_EVALUATED = 1000


def _epoch(moment: datetime) -> AttributeValueTypeDef:
    return i.n(f"{moment.timestamp():.6f}")


def _moment(item: Item, name: str) -> datetime | None:
    value = item.get(name)
    return None if value is None else datetime.fromtimestamp(float(value["N"]), UTC)


def _item(delivery: NotificationDelivery) -> Item:
    item: Item = {
        **i.key(NOTIFY_PARTITION, delivery.id),
        "event_id": i.s(delivery.event_id),
        "app": i.s(delivery.app),
        "event": i.s(delivery.event),
        "target": i.s(delivery.target),
        "destination": i.s(delivery.destination),
        "body": i.s(delivery.body),
        "created_at": _epoch(delivery.created_at),
        "next_attempt_at": _epoch(delivery.next_attempt_at),
        "attempts": i.n(delivery.attempts),
        "state": i.s(delivery.state),
        t.TTL_ATTRIBUTE: i.n(i.epoch_seconds(delivery.created_at + KEEP_DELIVERIES)),
    }
    if delivery.last_error is not None:
        item["last_error"] = i.s(delivery.last_error)
    if delivery.last_attempt_at is not None:
        item["last_attempt_at"] = _epoch(delivery.last_attempt_at)
    if delivery.state == "pending":
        item["due_pk"] = i.s(NOTIFY_PARTITION)
        item["due_key"] = i.s(t.due_key(delivery.next_attempt_at, delivery.id))
    return item


def _delivery(item: Item) -> NotificationDelivery:
    created = _moment(item, "created_at") or datetime.fromtimestamp(0, UTC)
    due = _moment(item, "next_attempt_at") or created
    return NotificationDelivery(
        id=i.required_text(item, "sk"),
        event_id=i.required_text(item, "event_id"),
        app=i.required_text(item, "app"),
        event=i.required_text(item, "event"),
        target=i.required_text(item, "target"),
        destination=i.required_text(item, "destination"),
        body=i.required_text(item, "body"),
        created_at=created,
        next_attempt_at=due,
        attempts=i.required_number(item, "attempts"),
        state=cast("DeliveryState", i.required_text(item, "state")),
        last_error=i.text(item, "last_error"),
        last_attempt_at=_moment(item, "last_attempt_at"),
    )


class NotifyMixin:
    """``claim_event`` and the notification deliveries of :class:`DynamoDBStore`."""

    _table: Table

    def claim_event(self, key: str, *, now: datetime, expires_at: datetime) -> bool:
        """One conditional put: the first observer of a change claims it, until it expires."""
        free = f"attribute_not_exists(#pk) OR #{t.TTL_ATTRIBUTE} <= :now"
        try:
            self._table.update(
                i.key(f"EVENT#{key}", "EVENT"),
                f"SET #{t.TTL_ATTRIBUTE} = :expires",
                {":expires": i.n(i.epoch_seconds(expires_at)), ":now": i.n(i.epoch_now(now))},
                condition=free,
            )
        except ConditionFailedError:
            return False
        return True

    def add_notification(self, delivery: NotificationDelivery) -> bool:
        """Put a new delivery; False when one with its id exists."""
        try:
            self._table.put(_item(delivery), condition="attribute_not_exists(#pk)")
        except ConditionFailedError:
            return False
        return True

    def claim_notification(
        self, delivery_id: str, *, now: datetime, lease_until: datetime
    ) -> NotificationDelivery | None:
        """One conditional update: pending and due, its next attempt moved to the lease's end."""
        condition = "#state = :pending AND #next_attempt_at <= :now"
        try:
            item = self._table.update(
                i.key(NOTIFY_PARTITION, delivery_id),
                "SET #next_attempt_at = :lease, #due_key = :due",
                {
                    ":lease": _epoch(lease_until),
                    ":due": i.s(t.due_key(lease_until, delivery_id)),
                    ":pending": i.s("pending"),
                    ":now": _epoch(now),
                },
                condition=f"attribute_exists(#pk) AND {condition}",
                returns="ALL_NEW",
            )
        except ConditionFailedError:
            return None
        return _delivery(item)

    def save_notification(self, delivery: NotificationDelivery) -> None:
        """Write the delivery as it is after an attempt (off the ``due`` index once settled)."""
        self._table.put(_item(delivery))

    def due_notifications(self, *, now: datetime, limit: int) -> Sequence[str]:
        """Ids of pending deliveries due now, from the ``due`` index (keys only)."""
        condition = "#due_pk = :notify AND #due_key < :bound"
        params: QueryInputTypeDef = {
            "TableName": self._table.name,
            "IndexName": t.DUE_INDEX,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names(condition),
            "ExpressionAttributeValues": {
                ":notify": i.s(NOTIFY_PARTITION),
                ":bound": i.s(t.due_bound(now)),
            },
            "Limit": limit,
        }
        items, _, _ = self._table.query(params)
        return [i.required_text(item, "sk") for item in items]

    def recent_notifications(
        self, *, limit: int, state: str | None = None
    ) -> Sequence[NotificationDelivery]:
        """The latest deliveries, newest first; a ``state`` filter reads at most
        MAX_EVALUATED items."""
        condition = "#pk = :notify"
        filtered = "#state = :state"
        values: Item = {":notify": i.s(NOTIFY_PARTITION)}
        if state is not None:
            values[":state"] = i.s(state)
        found: list[NotificationDelivery] = []
        start: Item | None = None
        evaluated = 0
        while len(found) < limit and evaluated < MAX_EVALUATED:
            params: QueryInputTypeDef = {
                "TableName": self._table.name,
                "KeyConditionExpression": condition,
                "ExpressionAttributeValues": values,
                "ExpressionAttributeNames": names(condition),
                "ScanIndexForward": False,
                "Limit": limit if state is None else 100,
            }
            if state is not None:
                params["FilterExpression"] = filtered
                params["ExpressionAttributeNames"] = names(condition, filtered)
            if start is not None:
                params["ExclusiveStartKey"] = start
            items, start, scanned = self._table.query(params)
            evaluated += scanned
            found.extend(_delivery(item) for item in items)
            if start is None:
                break
        return found[:limit]
