"""Rows of the SQLite index as domain records, and back."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from typing import Any

from bridge.domain import Delivery, Hold, Request, Source, Status, Submission
from bridge.ports import (
    InvalidCursorError,
)
from bridge.stores.analysis_codec import analysis_from_json
from bridge.stores.codec import content_from_json, moderation_from_json
from bridge.timeutil import parse_iso
from bridge.untrusted import is_int64, loads


def decode_position(cursor: str, column: str) -> tuple[Any, int]:
    try:
        key, number = loads(cursor)
    except (ValueError, TypeError) as error:
        raise InvalidCursorError("cursor is not a position of this listing") from error
    if column == "created_at":
        key_fits = isinstance(key, str)
    else:
        key_fits = is_int64(key) or isinstance(key, float)
    if not key_fits or not is_int64(number):
        raise InvalidCursorError("cursor is not a position of this listing")
    return key, number


EXPORT_COLUMNS = (
    "app, number, submission_id, title, status, labels, url, source, created_at, updated_at,"
    " closed_at, github_thumbs_up, bridge_votes, weighted_votes, duplicate_of, trend_score,"
    " board_option, analysis"
)
_STATUSES = {status.value: status for status in Status}
_SOURCES = {source.value: source for source in Source}


def export_request(row: tuple[Any, ...], labels_seen: dict[str, tuple[str, ...]]) -> Request:
    """What ``_request`` builds, from a tuple of ``EXPORT_COLUMNS``: about 3x faster.

    Label sets repeat across requests, so each distinct one is decoded once per page.
    """
    (
        app,
        number,
        submission_id,
        title,
        status,
        labels_text,
        url,
        source,
        created_at,
        updated_at,
        closed_at,
        thumbs_up,
        bridge_votes,
        weighted_votes,
        duplicate_of,
        trend,
        board_option,
        analysis,
    ) = row
    labels = labels_seen.get(labels_text)
    if labels is None:
        labels = labels_seen[labels_text] = tuple(json.loads(labels_text))
    return Request(
        app=app,
        number=number,
        submission_id=submission_id,
        title=title,
        status=_STATUSES[status],
        labels=labels,
        url=url,
        source=_SOURCES[source],
        created_at=_stored_time(created_at),
        updated_at=_stored_time(updated_at),
        closed_at=_stored_time(closed_at) if closed_at else None,
        github_thumbs_up=thumbs_up,
        bridge_votes=bridge_votes,
        weighted_votes=weighted_votes,
        duplicate_of=duplicate_of,
        trend=trend,
        board_option=board_option,
        analysis=analysis_from_json(analysis),
    )


def _stored_time(text: str) -> datetime:
    # to_sortable's text ends in Z, which fromisoformat reads as UTC; else the general parser.
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is UTC else parse_iso(text)


def sortable_bound(moment: datetime) -> str:
    # to_sortable's text, with the year zero-padded even before 1000 (strftime does not).
    return moment.astimezone(UTC).isoformat(timespec="microseconds")[:26] + "Z"


def request_of_row(row: sqlite3.Row) -> Request:
    return Request(
        app=row["app"],
        number=row["number"],
        submission_id=row["submission_id"],
        title=row["title"],
        status=Status(row["status"]),
        labels=tuple(json.loads(row["labels"])),
        url=row["url"],
        source=Source(row["source"]),
        created_at=parse_iso(row["created_at"]),
        updated_at=parse_iso(row["updated_at"]),
        closed_at=parse_iso(row["closed_at"]) if row["closed_at"] else None,
        github_thumbs_up=row["github_thumbs_up"],
        bridge_votes=row["bridge_votes"],
        weighted_votes=row["weighted_votes"],
        duplicate_of=row["duplicate_of"],
        trend=row["trend_score"],
        board_option=row["board_option"],
        analysis=analysis_from_json(row["analysis"]),
    )


def submission_of_row(row: sqlite3.Row) -> Submission:
    signals, decisions = moderation_from_json(row["moderation"])
    return Submission(
        id=row["id"],
        app=row["app"],
        source=Source(row["source"]),
        content=content_from_json(row["content"]),
        created_at=parse_iso(row["created_at"]),
        delivery=Delivery.DELIVERED if row["delivered"] else Delivery.QUEUED,
        attempts=row["attempts"],
        next_attempt_at=datetime.fromtimestamp(row["next_attempt_at"], UTC),
        last_error=row["last_error"],
        number=row["number"],
        url=row["url"],
        voter=row["voter"],
        voter_weight=row["voter_weight"],
        outcome_unknown=bool(row["in_flight"]),
        hold=Hold(row["hold"]) if row["hold"] else None,
        signals=signals,
        decisions=decisions,
    )
