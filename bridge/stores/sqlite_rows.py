"""Rows of the SQLite index as domain records, and back."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bridge.domain import Delivery, Hold, Request, Source, Status, Submission
from bridge.ports import (
    InvalidCursorError,
)
from bridge.stores.analysis_codec import analysis_from_json
from bridge.stores.codec import content_from_json, moderation_from_json
from bridge.timeutil import parse_iso
from bridge.untrusted import is_int64, loads

if TYPE_CHECKING:
    from bridge.export import Row


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


def _second_text(column: str) -> str:
    # to_iso's text from to_sortable's: drop ".ffffffZ" (8 characters), whatever the year's width.
    return f"substr({column}, 1, length({column}) - 8) || 'Z'"


def _analysis_field(path: str, json_type: str) -> str:
    # AnalysisRecord.category / .priority: the field when the analysis did not fail and it has
    # the type the record reads; otherwise NULL.
    return (
        f"CASE WHEN json_extract(nullif(analysis, ''), '$.error') IS NULL"
        f" AND json_type(nullif(analysis, ''), '$.fields.{path}') = '{json_type}'"
        f" THEN CAST(json_extract(analysis, '$.fields.{path}') AS TEXT) END"
    )


# The columns of bridge.export.Row, in its order, computed by SQLite as export_row() does
# from a Request; the store contract holds the two to the same rows. Only labels (JSON
# text here) are left to Python.
EXPORT_ROW_COLUMNS = ", ".join(
    (
        "app",
        "number",
        "title",
        "status",
        "labels",
        "github_thumbs_up",
        "bridge_votes",
        "total_votes",
        "weighted_votes",
        "bridge_votes",  # unique_voters: one vote per voter
        _second_text("created_at"),
        _second_text("updated_at"),
        _second_text("nullif(closed_at, '')"),
        "url",
        _analysis_field("category", "text"),
        _analysis_field("priority", "integer"),
    )
)
_LABELS = 4


def export_rows(rows: Sequence[tuple[Any, ...]]) -> list[Row]:
    """Rows of ``EXPORT_ROW_COLUMNS`` as ``Row``s: the labels' JSON decoded.

    Label sets repeat across requests, so each distinct one is decoded once per page.
    """
    from bridge.export import Row  # loads with the first export, not with the store

    labels_seen: dict[str, tuple[str, ...]] = {}
    result: list[Row] = []
    append, new = result.append, tuple.__new__  # Row._make without its length check
    for row in rows:
        text = row[_LABELS]
        labels = labels_seen.get(text)
        if labels is None:
            labels = labels_seen[text] = tuple(json.loads(text))
        append(new(Row, (*row[:_LABELS], labels, *row[_LABELS + 1 :])))
    return result


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
