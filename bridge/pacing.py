"""Pacing of content creation per GitHub installation.

GitHub's secondary limits allow about 80 content-creating requests a minute
and 500 an hour per installation; above that it refuses writes for a while.
The pacer spends a budget per installation and says how long to wait, so a
burst of submissions is queued rather than refused.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from msgspec import Struct


class Budget(Struct, frozen=True):
    """Content creations allowed per window."""

    per_minute: int = 80
    per_hour: int = 500


class Pacer:
    """Sliding-window budgets per key; thread-safe."""

    def __init__(self, budget: Budget, clock: Callable[[], float]) -> None:
        self._budget = budget
        self._clock = clock
        self._spent: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def reserve(self, key: str) -> float:
        """Spend one creation now and return 0, or return the seconds to wait."""
        now = self._clock()
        with self._lock:
            spent = self._spent.setdefault(key, deque())
            while spent and spent[0] <= now - 3600:
                spent.popleft()
            waits = []
            if len(spent) >= self._budget.per_hour:
                waits.append(spent[-self._budget.per_hour] + 3600 - now)
            recent = sum(1 for moment in spent if moment > now - 60)
            if recent >= self._budget.per_minute:
                waits.append(spent[-self._budget.per_minute] + 60 - now)
            if waits:
                return max(*waits, 0.001)
            spent.append(now)
            return 0.0


class ContentPacer(Protocol):
    """Spends one content creation of ``key``'s budget, or says how long to wait."""

    def reserve(self, key: str) -> float:
        """0 when spent; otherwise the seconds until the budget allows another."""


class SharedPacer:
    """The budget kept in the index store, for several processes (Lambda).

    Sliding windows need shared state per event; fixed windows need one counter.
    Each window (a minute, an hour) is cut into six slices counted apart, and
    any span of one window's length touches at most seven of them, so each
    slice allows a seventh of the budget and no minute or hour can exceed it.
    A refused reservation still counts, which only errs on the side of waiting.
    """

    SLICES = 6

    def __init__(
        self,
        budget: Budget,
        hit: Callable[[str, int, datetime], int],
        clock: Callable[[], datetime],
    ) -> None:
        self._windows = [
            (seconds // self.SLICES, max(1, allowed // (self.SLICES + 1)))
            for seconds, allowed in ((60, budget.per_minute), (3600, budget.per_hour))
        ]
        self._hit = hit
        self._clock = clock

    def reserve(self, key: str) -> float:
        """Count one creation in each window; wait for the end of any slice that is full."""
        now = self._clock()
        waits = [
            seconds - now.timestamp() % seconds
            for seconds, allowed in self._windows
            if self._hit(f"pace:{seconds}:{key}", seconds, now) > allowed
        ]
        return max(waits, default=0.0)
