"""Domain records to DynamoDB items and back, in the low-level wire format.

Numbers travel as decimal strings (``{"N": "42"}``) and come back as ``int``;
timestamps are fixed-width ISO text with microseconds
(:func:`bridge.timeutil.to_sortable`), so they round-trip exactly and sort
as text; expiries are whole epoch seconds, the unit DynamoDB's TTL reads.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING, TypeAlias

from bridge.domain import Delivery, Hold, Request, Source, Status, Submission, Vote
from bridge.stores import dynamodb_table as t
from bridge.stores.analysis_codec import analysis_from_json
from bridge.stores.codec import (
    content_from_json,
    content_to_json,
    moderation_from_json,
    moderation_to_json,
)
from bridge.timeutil import parse_iso, to_sortable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, TransactWriteItemTypeDef

    Item: TypeAlias = dict[str, AttributeValueTypeDef]


def s(value: str) -> AttributeValueTypeDef:
    """A string attribute value."""
    return {"S": value}


def n(value: int | float | str) -> AttributeValueTypeDef:
    """A number attribute value."""
    return {"N": str(value)}


def flag(value: bool) -> AttributeValueTypeDef:
    """A boolean attribute value."""
    return {"BOOL": value}


def key(pk: str, sk: str) -> Item:
    """A primary key."""
    return {"pk": s(pk), "sk": s(sk)}


def epoch_seconds(moment: datetime) -> int:
    """Whole epoch seconds, rounded down: a record never outlives its expiry."""
    return math.floor(moment.timestamp())


def epoch_now(moment: datetime) -> str:
    """``now`` as an exact number, compared against ``expires_at``."""
    return f"{moment.timestamp():.6f}"


def is_live(item: Item, now: datetime) -> bool:
    """An expiring item is absent once ``now`` has reached its ``expires_at``."""
    expires_at = number(item, t.TTL_ATTRIBUTE)
    return expires_at is None or expires_at > now.timestamp()


def text(item: Item, name: str) -> str | None:
    """A string attribute, or None when absent."""
    value = item.get(name)
    return value["S"] if value is not None and "S" in value else None


def number(item: Item, name: str) -> int | None:
    """An integer attribute, or None when absent."""
    value = item.get(name)
    return int(value["N"]) if value is not None and "N" in value else None


def boolean(item: Item, name: str) -> bool:
    """A boolean attribute; absent is false."""
    value = item.get(name)
    return bool(value is not None and value.get("BOOL"))


def required_number(item: Item, name: str) -> int:
    """An integer attribute every item of its kind has."""
    value = number(item, name)
    if value is None:
        raise KeyError(name)
    return value


def required_text(item: Item, name: str) -> str:
    """A string attribute every item of its kind has."""
    value = text(item, name)
    if value is None:
        raise KeyError(name)
    return value


# --------------------------------------------------------------------------- requests


def request_item(request: Request) -> Item:
    """The full item of a request, with the listing indexes' key attributes."""
    item: Item = {
        **key(t.app_pk(request.app), t.request_sk(request.number)),
        "status_pk": s(t.status_pk(request.app, request.status)),
        "top_key": s(t.top_key(request.total_votes, request.number)),
        "new_key": s(t.new_key(request.created_at, request.number)),
        "trend_key": s(t.trend_key(request.trend, request.number)),
        # repr() round-trips a float exactly; a DynamoDB number would not.
        "trend": s(repr(request.trend)),
        "app": s(request.app),
        "number": n(request.number),
        "title": s(request.title),
        "title_folded": s(request.title.casefold()),
        "status": s(request.status.value),
        "labels": {"L": [s(label) for label in request.labels]},
        "url": s(request.url),
        "source": s(request.source.value),
        "created_at": s(to_sortable(request.created_at)),
        "updated_at": s(to_sortable(request.updated_at)),
        "github_thumbs_up": n(request.github_thumbs_up),
        "bridge_votes": n(request.bridge_votes),
        "weighted_votes": n(request.weighted_votes),
        "total_votes": n(request.total_votes),
    }
    if request.closed_at is not None:
        item["closed_at"] = s(to_sortable(request.closed_at))
    if request.submission_id is not None:
        item["submission_id"] = s(request.submission_id)
    if request.duplicate_of is not None:
        item["duplicate_of"] = n(request.duplicate_of)
    if request.board_option is not None:
        item["board_option"] = s(request.board_option)
    return item


# Attributes a request item may lack (None in the Request).
_OPTIONAL = ("closed_at", "submission_id", "duplicate_of", "board_option")
# What only the bridge knows about a request: GitHub's changes never write these.
BRIDGE_OWNED = frozenset({"bridge_votes", "weighted_votes", "source", "submission_id"})


def description_item(request: Request) -> Item | None:
    """The request's description item; None when the request carries none."""
    if request.description is None:
        return None
    return {
        **key(t.app_pk(request.app), t.text_sk(request.number)),
        "description": s(request.description),
    }


def description_write(table: str, request: Request) -> TransactWriteItemTypeDef | None:
    """A put of the request's description item, for a transaction."""
    item = description_item(request)
    return {"Put": {"TableName": table, "Item": item}} if item is not None else None


def request_update(request: Request, *, keep: frozenset[str] = frozenset()) -> tuple[str, Item]:
    """An ``UpdateExpression`` writing the request's attributes and its values.

    Unlike a ``PutItem`` of :func:`request_item`, it leaves every attribute it
    does not name alone: the tally bookkeeping and its ``tally`` index keys
    (see :mod:`dynamodb_table`), and whatever ``keep`` lists. Creates the item
    when it is missing.
    """
    item = request_item(request)
    sets: list[str] = []
    values: Item = {}
    for name, value in item.items():
        if name in {"pk", "sk"} or name in keep:
            continue
        sets.append(f"#{name} = :{name}")
        values[f":{name}"] = value
    gone = [f"#{name}" for name in _OPTIONAL if name not in item and name not in keep]
    expression = "SET " + ", ".join(sets)
    if gone:
        expression += " REMOVE " + ", ".join(gone)
    return expression, values


def request_of(item: Item) -> Request:
    """The inverse of :func:`request_item`."""
    closed_at = text(item, "closed_at")
    return Request(
        app=required_text(item, "app"),
        number=int(item["number"]["N"]),
        submission_id=text(item, "submission_id"),
        title=required_text(item, "title"),
        status=Status(required_text(item, "status")),
        labels=tuple(label["S"] for label in item["labels"].get("L", ())),
        url=required_text(item, "url"),
        source=Source(required_text(item, "source")),
        created_at=parse_iso(required_text(item, "created_at")),
        updated_at=parse_iso(required_text(item, "updated_at")),
        closed_at=parse_iso(closed_at) if closed_at else None,
        github_thumbs_up=number(item, "github_thumbs_up") or 0,
        bridge_votes=number(item, "bridge_votes") or 0,
        weighted_votes=number(item, "weighted_votes") or 0,
        duplicate_of=number(item, "duplicate_of"),
        trend=float(text(item, "trend") or 0.0),
        board_option=text(item, "board_option"),
        # Written only by record_analysis: request_item never names it, so no update clears it.
        analysis=analysis_from_json(text(item, "analysis")),
    )


# --------------------------------------------------------------------------- submissions


def due_keys(submission: Submission) -> tuple[str, str]:
    """``(due_pk, due_key)`` of an undelivered submission: the outbox's, or its hold's."""
    if submission.hold is not None:
        return (
            t.hold_partition(submission.hold, submission.app),
            t.due_key(submission.created_at, submission.id),
        )
    next_attempt_at = submission.next_attempt_at or submission.created_at
    return t.DUE_PARTITION, t.due_key(next_attempt_at, submission.id)


def submission_item(submission: Submission, *, lease_until: datetime | None = None) -> Item:
    """A new outbox item: undelivered, so it carries the ``due`` index keys; leased for its
    first attempt until ``lease_until`` when given (as a claim leases it)."""
    next_attempt_at = submission.next_attempt_at or submission.created_at
    due_pk, due_key = due_keys(submission)
    item: Item = {
        **key(t.submission_pk(submission.id), t.SUBMISSION_SK),
        "due_pk": s(due_pk),
        "due_key": s(due_key),
        "id": s(submission.id),
        "app": s(submission.app),
        "source": s(submission.source.value),
        "content": s(content_to_json(submission.content)),
        "created_at": s(to_sortable(submission.created_at)),
        "next_attempt_at": s(to_sortable(next_attempt_at)),
        "delivered": flag(False),
        "in_flight": flag(lease_until is not None),
        "attempts": n(0 if lease_until is None else 1),
    }
    if lease_until is not None:
        item["lease_until"] = s(to_sortable(lease_until))
    if submission.voter is not None:
        item["voter"] = s(submission.voter)
        item["voter_weight"] = n(submission.voter_weight)
    if submission.hold is not None:
        item["hold"] = s(submission.hold.value)
    moderation = moderation_to_json(submission.signals, submission.decisions)
    if moderation is not None:
        item["moderation"] = s(moderation)
    return item


def submission_of(item: Item) -> Submission:
    """The inverse of :func:`submission_item`, for any state the item is in."""
    next_attempt_at = text(item, "next_attempt_at")
    hold = text(item, "hold")
    signals, decisions = moderation_from_json(text(item, "moderation"))
    return Submission(
        id=required_text(item, "id"),
        app=required_text(item, "app"),
        source=Source(required_text(item, "source")),
        content=content_from_json(required_text(item, "content")),
        created_at=parse_iso(required_text(item, "created_at")),
        delivery=Delivery.DELIVERED if boolean(item, "delivered") else Delivery.QUEUED,
        attempts=number(item, "attempts") or 0,
        next_attempt_at=parse_iso(next_attempt_at) if next_attempt_at else None,
        last_error=text(item, "last_error"),
        number=number(item, "number"),
        url=text(item, "url"),
        voter=text(item, "voter"),
        voter_weight=_or(number(item, "voter_weight"), 1),
        outcome_unknown=boolean(item, "in_flight"),
        hold=Hold(hold) if hold else None,
        signals=signals,
        decisions=decisions,
    )


def _or(value: int | None, default: int) -> int:
    return default if value is None else value


# --------------------------------------------------------------------------- votes


def vote_key(app: str, number: int, voter: str) -> Item:
    """The primary key of one voter's vote on one request."""
    return key(t.app_pk(app), t.vote_sk(number, voter))


def vote_item(vote: Vote) -> Item:
    """A vote beside its request; ``created_at`` exact, to take its trend event back."""
    return {
        **vote_key(vote.app, vote.number, vote.voter),
        "voter": s(vote.voter),
        "weight": n(vote.weight),
        "created_at": s(to_sortable(vote.created_at)),
    }


def vote_of(item: Item, app: str, request_number: int) -> Vote:
    """The inverse of :func:`vote_item`."""
    return Vote(
        app=app,
        number=request_number,
        voter=required_text(item, "voter"),
        created_at=parse_iso(required_text(item, "created_at")),
        weight=_or(number(item, "weight"), 1),
    )


def is_claimable(item: Item, now: datetime) -> bool:
    """Undelivered, due, and not leased (or its lease has run out)."""
    lease_until = text(item, "lease_until")
    next_attempt_at = text(item, "next_attempt_at")
    moment = to_sortable(now)
    return (
        not boolean(item, "delivered")
        and "hold" not in item
        and (next_attempt_at is None or next_attempt_at <= moment)
        and (lease_until is None or lease_until <= moment)
    )
