"""Ranking rules for listings: pure functions over request data."""

from __future__ import annotations

import math
import re
from datetime import datetime

# Seconds of age that weigh as much as a tenfold increase in votes: a request
# needs ten times the votes to rank beside one 12.5 hours younger.
TRENDING_GRAVITY_SECONDS = 45_000

_WORD = re.compile(r"\w+", re.UNICODE)


def trending_score(votes: int, created_at: datetime) -> float:
    """Time-decayed popularity that never needs recomputing as time passes.

    ``log10(votes) + created/gravity`` orders like ``votes / 10**(age/gravity)``
    at every instant, so a stored score keeps a valid order forever.
    """
    return math.log10(max(votes, 1)) + created_at.timestamp() / TRENDING_GRAVITY_SECONDS


def title_words(text: str, *, limit: int = 8) -> tuple[str, ...]:
    """Lower-cased distinct words of a query, at most ``limit`` of them."""
    words: list[str] = []
    for word in _WORD.findall(text.casefold()):
        if word not in words:
            words.append(word)
    return tuple(words[:limit])
