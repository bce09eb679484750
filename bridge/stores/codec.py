"""Shared encoding of domain records for stores that keep JSON text."""

from __future__ import annotations

import json
from typing import Any

from bridge.domain import SubmissionContent


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
