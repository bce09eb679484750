"""Shared encoding of domain records for stores that keep JSON text."""

from __future__ import annotations

import json
from typing import Any

from bridge.domain import SubmissionContent
from bridge.ports import InvalidCursorError
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
