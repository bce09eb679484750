"""Ranking rules for listings: pure functions over request data.

Trending is an exponentially decayed count of events (bridge votes, 👍 increases
seen by sync, the request's own creation), kept in log space: the score of a
request is ``log2(sum(weight * 2**(t_event / HALF_LIFE)))``. At any instant the
order of two scores equals the order of their decayed counts, so a stored score
never needs recomputing as time passes, and adding an event is one update.
"""

from __future__ import annotations

import math
import re
from datetime import datetime

# A vote loses half its weight every three days: one 14 days old weighs about 4%.
TRENDING_HALF_LIFE_SECONDS = 3 * 24 * 3600
# Removing the last event leaves a score this far below the creation seed.
_EMPTY = 64.0

_WORD = re.compile(r"\w+", re.UNICODE)


def _exponent(at: datetime, weight: float) -> float:
    return at.timestamp() / TRENDING_HALF_LIFE_SECONDS + math.log2(weight)


def trend_seed(created_at: datetime) -> float:
    """The score of a request with one event: its creation."""
    return _exponent(created_at, 1)


def trend_add(score: float, at: datetime, weight: float = 1) -> float:
    """The score after an event of ``weight`` at ``at`` (log-sum-exp, overflow-free)."""
    if weight <= 0:
        return score
    event = _exponent(at, weight)
    high, low = max(score, event), min(score, event)
    return high + math.log2(1 + 2 ** (low - high))


def trend_remove(score: float, at: datetime, weight: float = 1) -> float:
    """The score after taking back an event added with :func:`trend_add`."""
    if weight <= 0:
        return score
    event = _exponent(at, weight)
    if event >= score - 1e-9:
        return event - _EMPTY
    return score + math.log2(1 - 2 ** (event - score))


def title_words(text: str, *, limit: int = 8) -> tuple[str, ...]:
    """Lower-cased distinct words of a query, at most ``limit`` of them."""
    words: list[str] = []
    for word in _WORD.findall(text.casefold()):
        if word not in words:
            words.append(word)
    return tuple(words[:limit])
