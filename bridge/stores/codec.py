"""Shared encoding of domain records for stores that keep JSON text."""

from __future__ import annotations

import json
from typing import Any

from bridge.domain import Decision, OperatorAction, SubmissionContent
from bridge.ports import InvalidCursorError
from bridge.timeutil import parse_iso, to_sortable
from bridge.untrusted import is_int64, loads


def content_to_json(content: SubmissionContent) -> str:
    """Serialise a submission's content, private fields included (index only)."""
    return json.dumps(
        {
            "title": content.title,
            "description": content.description,
            "metadata": dict(content.metadata),
            "email": content.email,
            "name": content.name,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def content_from_json(text: str) -> SubmissionContent:
    """The inverse of :func:`content_to_json`."""
    raw: dict[str, Any] = json.loads(text)
    return SubmissionContent(
        title=raw["title"],
        description=raw["description"],
        metadata=raw["metadata"],
        email=raw["email"],
        name=raw["name"],
    )


def moderation_to_json(signals: tuple[str, ...], decisions: tuple[Decision, ...]) -> str | None:
    """A submission's spam signals and review decisions; None when it has neither."""
    if not signals and not decisions:
        return None
    return json.dumps(
        {
            "signals": list(signals),
            "decisions": [
                {"action": d.action.value, "at": to_sortable(d.at), "by": d.by, "reason": d.reason}
                for d in decisions
            ],
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def moderation_from_json(text: str | None) -> tuple[tuple[str, ...], tuple[Decision, ...]]:
    """The inverse of :func:`moderation_to_json`: ``(signals, decisions)``."""
    if not text:
        return (), ()
    raw: dict[str, Any] = json.loads(text)
    decisions = tuple(
        Decision(
            action=OperatorAction(d["action"]),
            at=parse_iso(d["at"]),
            by=d["by"],
            reason=d["reason"],
        )
        for d in raw["decisions"]
    )
    return tuple(raw["signals"]), decisions


def export_cursor(app: str, number: int) -> str:
    """The opaque position after ``(app, number)`` in an export scan."""
    return json.dumps(["export", app, number])


def export_position(cursor: str) -> tuple[str, int]:
    """The inverse of :func:`export_cursor`; InvalidCursorError for anything else."""
    try:
        tag, app, number = loads(cursor)
    except (ValueError, TypeError) as error:
        raise InvalidCursorError("cursor is not a position of this export") from error
    if tag != "export" or not isinstance(app, str) or not is_int64(number):
        raise InvalidCursorError("cursor is not a position of this export")
    return app, number


def review_cursor(created_at: str, submission_id: str) -> str:
    """The opaque position after one held submission (its sortable creation time and id)."""
    return json.dumps(["held", created_at, submission_id])


def review_position(cursor: str) -> tuple[str, str]:
    """The inverse of :func:`review_cursor`; InvalidCursorError for anything else."""
    try:
        tag, created_at, submission_id = loads(cursor)
    except (ValueError, TypeError) as error:
        raise InvalidCursorError("cursor is not a position of this listing") from error
    if tag != "held" or not isinstance(created_at, str) or not isinstance(submission_id, str):
        raise InvalidCursorError("cursor is not a position of this listing")
    return created_at, submission_id


def sendable_cursor(next_attempt_key: str, submission_id: str) -> str:
    """The opaque position after one sendable submission in next-attempt order."""
    return json.dumps(["sendable", next_attempt_key, submission_id])


def sendable_position(cursor: str) -> tuple[str, str]:
    """The inverse of :func:`sendable_cursor`; InvalidCursorError for anything else."""
    try:
        tag, key, submission_id = loads(cursor)
    except (ValueError, TypeError) as error:
        raise InvalidCursorError("cursor is not a position of this listing") from error
    if tag != "sendable" or not isinstance(key, str) or not isinstance(submission_id, str):
        raise InvalidCursorError("cursor is not a position of this listing")
    return key, submission_id
