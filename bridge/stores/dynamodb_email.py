"""The DynamoDB index's share of email: subscribers, what they follow, suppressed addresses.

=====================  ==============================  ==============================
item                   pk                              sk
=====================  ==============================  ==============================
subscriber             ``MAIL#<id>``                   ``MAIL``
an app's address       ``MAILADDR#<app>#<sha256>``     ``MAIL``
follow                 ``APP#<app>``                   ``FOLLOW#<topic>#<voter>``
suppressed address     ``MAILSTOP#<sha256>``           ``MAIL``
=====================  ==============================  ==============================

A subscriber and its app's address item are written in one transaction, so
an app holds one subscriber per address; the address itself is never a key.
Follows sit in the app's partition, beside the votes (no index carries them).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bridge.notify.email.model import Subscriber, address_key
from bridge.ports import StoreError
from bridge.stores import dynamodb_items as i
from bridge.stores import dynamodb_table as t
from bridge.stores.dynamodb_client import (
    ConditionFailedError,
    Table,
    TransactionCancelledError,
    names,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import QueryInputTypeDef, TransactWriteItemTypeDef

    from bridge.stores.dynamodb_items import Item

MAIL_SK = "MAIL"
_NEW = "attribute_not_exists(#pk)"


def _subscriber_key(subscriber_id: str) -> Item:
    return i.key(f"MAIL#{subscriber_id}", MAIL_SK)


def _address_key(app: str, address: str) -> Item:
    return i.key(f"MAILADDR#{app}#{address_key(address)}", MAIL_SK)


def _stop_key(address: str) -> Item:
    return i.key(f"MAILSTOP#{address_key(address)}", MAIL_SK)


def _follow_sk(topic: str, voter: str = "") -> str:
    return f"FOLLOW#{topic}#{voter}"


def _subscriber(item: Item) -> Subscriber:
    return Subscriber(
        id=i.required_text(item, "pk").removeprefix("MAIL#"),
        app=i.required_text(item, "app"),
        address=i.required_text(item, "address"),
        confirmed=i.boolean(item, "confirmed"),
        unsubscribed=i.boolean(item, "unsubscribed"),
        created_at=datetime.fromtimestamp(float(item["created_at"]["N"]), UTC),
    )


class EmailMixin:
    """Email subscriptions of :class:`bridge.stores.dynamodb.DynamoDBStore`."""

    _table: Table

    def subscribe(
        self, subscriber: Subscriber, *, topic: str, voter: str
    ) -> tuple[Subscriber, bool]:
        """Keep the subscriber (or find its app's one of that address) and follow ``topic``."""
        table = self._table.name
        writes: list[TransactWriteItemTypeDef] = [
            {
                "Put": {
                    "TableName": table,
                    "Item": {
                        **_address_key(subscriber.app, subscriber.address),
                        "subscriber": i.s(subscriber.id),
                    },
                    "ConditionExpression": _NEW,
                    "ExpressionAttributeNames": names(_NEW),
                }
            },
            {
                "Put": {
                    "TableName": table,
                    "Item": {
                        **_subscriber_key(subscriber.id),
                        "app": i.s(subscriber.app),
                        "address": i.s(subscriber.address),
                        "address_key": i.s(address_key(subscriber.address)),
                        "confirmed": i.flag(subscriber.confirmed),
                        "unsubscribed": i.flag(False),
                        "created_at": i.n(f"{subscriber.created_at.timestamp():.6f}"),
                    },
                    "ConditionExpression": _NEW,
                    "ExpressionAttributeNames": names(_NEW),
                }
            },
        ]
        created = True
        try:
            self._table.transact(writes)
            stored = subscriber
        except TransactionCancelledError:
            created = False
            stored = self._subscriber_of_address(subscriber)
        self._table.put(
            {
                **i.key(t.app_pk(subscriber.app), _follow_sk(topic, voter)),
                "subscriber": i.s(stored.id),
            }
        )
        return stored, created

    def _subscriber_of_address(self, subscriber: Subscriber) -> Subscriber:
        found = self._table.get(_address_key(subscriber.app, subscriber.address))
        if found is None:
            raise StoreError("a subscriber's id was taken: try again")
        subscriber_id = i.required_text(found, "subscriber")
        if subscriber.confirmed:
            item = self._table.update(
                _subscriber_key(subscriber_id),
                "SET #confirmed = :yes, #unsubscribed = :no",
                {":yes": i.flag(True), ":no": i.flag(False)},
                condition="attribute_exists(#pk)",
                returns="ALL_NEW",
            )
            return _subscriber(item)
        stored = self._table.get(_subscriber_key(subscriber_id))
        if stored is None:
            raise StoreError("a subscriber's address names no subscriber")
        return _subscriber(stored)

    def get_subscriber(self, subscriber_id: str) -> Subscriber | None:
        """The subscriber with this id."""
        item = self._table.get(_subscriber_key(subscriber_id))
        return _subscriber(item) if item is not None else None

    def confirm_subscriber(self, subscriber_id: str) -> Subscriber | None:
        """Mark the address confirmed by its owner (an unsubscribed one stays unsubscribed)."""
        return self._set_flag(subscriber_id, "confirmed")

    def unsubscribe(self, subscriber_id: str) -> Subscriber | None:
        """Stop every email to this subscriber."""
        return self._set_flag(subscriber_id, "unsubscribed")

    def _set_flag(self, subscriber_id: str, attribute: str) -> Subscriber | None:
        try:
            item = self._table.update(
                _subscriber_key(subscriber_id),
                f"SET #{attribute} = :yes",
                {":yes": i.flag(True)},
                condition="attribute_exists(#pk)",
                returns="ALL_NEW",
            )
        except ConditionFailedError:
            return None
        return _subscriber(item)

    def unfollow(self, app: str, topic: str, voter: str) -> None:
        """``voter`` no longer follows ``topic``."""
        with self._table.errors("DeleteItem"):
            self._table.client.delete_item(
                TableName=self._table.name, Key=i.key(t.app_pk(app), _follow_sk(topic, voter))
            )

    def drop_ended_subscriptions(self, *, before: datetime) -> int:
        """A scan for ended subscribers; each goes with its app's address item in one
        transaction. Follows that name a gone subscriber are left: ``followers`` skips them,
        and they hold no address."""
        dropped = 0
        for item in self._table.scan_all():
            if i.text(item, "sk") != MAIL_SK or not i.required_text(item, "pk").startswith("MAIL#"):
                continue
            found = _subscriber(item)
            if not (found.unsubscribed or (not found.confirmed and found.created_at < before)):
                continue
            self._table.transact(
                [
                    {"Delete": {"TableName": self._table.name, "Key": key}}
                    for key in (
                        _subscriber_key(found.id),
                        _address_key(found.app, found.address),
                    )
                ]
            )
            dropped += 1
        return dropped

    def copy_follows(self, app: str, topics: Sequence[str], to: str) -> int:
        """Everyone following any of ``topics`` follows ``to`` too: one conditional put per
        follow, so a voter already following ``to`` keeps that."""
        added = 0
        for topic in topics:
            for voter, subscriber_id in self._following(app, topic):
                try:
                    self._table.put(
                        {
                            **i.key(t.app_pk(app), _follow_sk(to, voter)),
                            "subscriber": i.s(subscriber_id),
                        },
                        condition=_NEW,
                    )
                except ConditionFailedError:
                    continue
                added += 1
        return added

    def followers(self, app: str, topics: Sequence[str]) -> Sequence[Subscriber]:
        """Active subscribers following any of ``topics``, each once, suppressed ones left out."""
        ids: set[str] = set()
        for topic in topics:
            ids.update(subscriber_id for _, subscriber_id in self._following(app, topic))
        if not ids:
            return []
        found = self._table.batch_get([_subscriber_key(sid) for sid in sorted(ids)])
        active = [_subscriber(item) for item in found.values()]
        active = [subscriber for subscriber in active if subscriber.active]
        stops = self._table.batch_get([_stop_key(s.address) for s in active]) if active else {}
        stopped = {i.required_text(item, "pk") for item in stops.values()}
        return sorted(
            (s for s in active if i.text(_stop_key(s.address), "pk") not in stopped),
            key=lambda s: s.id,
        )

    def _following(self, app: str, topic: str) -> list[tuple[str, str]]:
        """``(voter, subscriber id)`` of each follow of ``topic``."""
        condition = "#pk = :pk AND begins_with(#sk, :prefix)"
        prefix = _follow_sk(topic)
        ids: list[tuple[str, str]] = []
        start: Item | None = None
        while True:
            params: QueryInputTypeDef = {
                "TableName": self._table.name,
                "KeyConditionExpression": condition,
                "ExpressionAttributeNames": names(condition),
                "ExpressionAttributeValues": {
                    ":pk": i.s(t.app_pk(app)),
                    ":prefix": i.s(prefix),
                },
            }
            if start is not None:
                params["ExclusiveStartKey"] = start
            items, start, _ = self._table.query(params)
            ids.extend(
                (
                    i.required_text(item, "sk").removeprefix(prefix),
                    i.required_text(item, "subscriber"),
                )
                for item in items
            )
            if start is None:
                return ids

    def suppress_address(self, address: str, *, reason: str, now: datetime) -> None:
        """Never email this address again (a bounce, a complaint, SES's refusal)."""
        self._table.put(
            {**_stop_key(address), "reason": i.s(reason), "created_at": i.n(int(now.timestamp()))}
        )

    def is_suppressed(self, address: str) -> bool:
        """Whether the address may not be emailed."""
        return self._table.get(_stop_key(address)) is not None
