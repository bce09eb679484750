"""Measuring a search on labelled pairs: each draft and the request it duplicates.

``featurebridge similar-eval`` and ``bench/similar.py`` score rankings with
these; a ranking is the request numbers a search returned, best first.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from msgspec import Struct


class PairsError(ValueError):
    """A pairs file that cannot be read; the message says where and why."""


class Pair(Struct, frozen=True):
    """A draft as someone typed it and the number of the request it duplicates."""

    title: str
    description: str
    original: int


def read_pairs(path: Path) -> list[Pair]:
    """Pairs from JSON Lines: ``{"title": ..., "description": ... (optional), "original": N}``."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise PairsError(f"{path}: cannot be read: {error.strerror}") from error
    pairs: list[Pair] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            title, original = item["title"], item["original"]
            description = item.get("description", "")
            valid = isinstance(title, str) and title.strip() and isinstance(description, str)
            if not valid or not isinstance(original, int) or isinstance(original, bool):
                raise TypeError
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise PairsError(
                f'{path}:{number}: expected {{"title": "...", "description": "...",'
                ' "original": <issue number>}'
            ) from error
        pairs.append(Pair(title, description, original))
    if not pairs:
        raise PairsError(f"{path}: no pairs")
    return pairs


def recall_at(rankings: Sequence[Sequence[int]], originals: Sequence[int], k: int) -> float:
    """The share of drafts whose original is among the first ``k`` of its ranking."""
    hits = sum(
        original in ranking[:k] for ranking, original in zip(rankings, originals, strict=True)
    )
    return hits / len(originals) if originals else 0.0
