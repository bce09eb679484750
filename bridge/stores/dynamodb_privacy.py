"""``forget_person`` on DynamoDB: one scan of the table, every string attribute looked at.

A vote's voter is in its sort key, so an anonymised vote is a new item put and
the old one deleted in one transaction. Any other item whose key holds the
address (an idempotency record under a key someone chose) is deleted: those
are caches that expire anyway.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from msgspec.structs import replace

from bridge.privacy.forget import (
    ForgetReport,
    anonymised_voter,
    forgotten_content,
    mentions,
    scrubbed,
)
from bridge.stores import dynamodb_items as i
from bridge.stores import dynamodb_table as t
from bridge.stores.codec import content_from_json, content_to_json
from bridge.stores.dynamodb_client import Table
from bridge.timeutil import to_sortable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

    from bridge.stores.dynamodb_items import Item

_KEYS = ("pk", "sk")


def _value(name: str, value: Any, address: str) -> Any:
    """An attribute value without the address; nested maps and lists are walked."""
    if "S" in value:
        text = value["S"]
        if not mentions(text, address):
            return value
        if name == "content":
            return i.s(content_to_json(forgotten_content(content_from_json(text), address)))
        if name == "voter":
            return i.s(anonymised_voter(text))
        return i.s(scrubbed(text, address))
    if "M" in value:
        return {"M": {key: _value(key, inner, address) for key, inner in value["M"].items()}}
    if "L" in value:
        return {"L": [_value("", inner, address) for inner in value["L"]]}
    return value


def forgotten_item(item: Item, address: str) -> Item | None:
    """The item without the address; the same item when it holds none, None to delete it."""
    new: Item = {name: _value(name, value, address) for name, value in item.items()}
    if not any(mentions(i.text(item, key), address) for key in _KEYS):
        return new
    voter = i.text(new, "voter")
    sk = i.text(item, "sk") or ""
    if sk.startswith("VOTE#") and voter is not None:
        number = int(sk.split("#")[1])
        return {**new, "pk": item["pk"], "sk": i.s(t.vote_sk(number, voter))}
    return None


class PrivacyMixin:
    """``forget_person`` of :class:`bridge.stores.dynamodb.DynamoDBStore`."""

    _table: Table

    def forget_person(self, address: str, *, dry_run: bool = False) -> ForgetReport:
        """Erase one (normalised) address from the table; votes stay, anonymised."""
        counts: dict[str, int] = {"submissions": 0, "votes": 0, "texts": 0}
        for item in self._table.scan_all():
            new = forgotten_item(item, address)
            if new == item:
                continue
            sk = i.text(item, "sk") or ""
            kind = "votes" if sk.startswith("VOTE#") else "texts"
            kind = "submissions" if "content" in item else kind
            counts[kind] += 1
            if dry_run:
                continue
            old_key = i.key(i.required_text(item, "pk"), sk)
            writes: list[TransactWriteItemTypeDef] = []
            if new is None or new["sk"] != item["sk"]:
                writes.append({"Delete": {"TableName": self._table.name, "Key": old_key}})
            if new is not None:
                writes.append({"Put": {"TableName": self._table.name, "Item": new}})
            self._table.transact(writes)
        return ForgetReport(**counts)

    def drop_personal_data(self, *, before: datetime) -> int:
        """A scan for submission items older than ``before``, each holding an email or name
        rewritten without them (a conditional update: a delivery meanwhile keeps its own)."""
        dropped = 0
        cutoff = to_sortable(before)
        for item in self._table.scan_all():
            if i.text(item, "sk") != t.SUBMISSION_SK:
                continue
            if i.required_text(item, "created_at") >= cutoff:
                continue
            content = content_from_json(i.required_text(item, "content"))
            if content.email is None and content.name is None:
                continue
            bare = content_to_json(replace(content, email=None, name=None))
            self._table.update(
                i.key(i.required_text(item, "pk"), t.SUBMISSION_SK),
                "SET #content = :bare",
                {":bare": i.s(bare)},
            )
            dropped += 1
        return dropped
