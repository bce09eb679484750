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
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Budget:
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
