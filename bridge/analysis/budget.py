"""The daily token budget: one counter per UTC day in the index, shared by every process."""

from __future__ import annotations

import math
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from msgspec import Struct

if TYPE_CHECKING:
    # Types only: /healthz reads the counters without loading the model's classes.
    from bridge.analysis.model import AnalysisInput
    from bridge.ports import IndexStore

# A conservative reading of the prompt's size: fewer characters per token than
# English averages, so the reservation is never smaller than the real prompt.
CHARS_PER_TOKEN = 3
# The tool's schema and the system prompt, in tokens, on top of the request.
PROMPT_OVERHEAD_TOKENS = 900


def tokens_key(day: datetime) -> str:
    """The counter of the tokens spent on ``day`` (UTC)."""
    return f"analysis-tokens:{day.date().isoformat()}"


def failures_key(day: datetime) -> str:
    """The counter of the analyses that failed on ``day`` (UTC)."""
    return f"analysis-failed:{day.date().isoformat()}"


def next_day(now: datetime) -> datetime:
    """Midnight UTC after ``now``: when a spent budget is whole again."""
    return datetime.combine(now.date() + timedelta(days=1), time(), tzinfo=now.tzinfo)


def worst_case_tokens(request: AnalysisInput, *, max_tokens: int, attempts: int) -> int:
    """The most one analysis can spend: every attempt's prompt and full output."""
    text = (
        len(request.title) + len(request.description) + sum(map(len, request.candidates.values()))
    )
    return attempts * (math.ceil(text / CHARS_PER_TOKEN) + PROMPT_OVERHEAD_TOKENS + max_tokens)


class DailyBudget(Struct, frozen=True):
    """Reserve an analysis's worst case before the call, settle to what it cost after.

    Reserving first is what makes the budget hold when several processes
    analyse at once: the store refuses a reservation that would pass it.
    """

    store: IndexStore
    limit: int

    def reserve(self, tokens: int, now: datetime) -> bool:
        """Take ``tokens`` from today's budget; False (nothing taken) when it would pass it."""
        return self.store.add_to_counter(
            tokens_key(now), tokens, limit=self.limit, expires_at=next_day(now) + timedelta(days=2)
        )

    def settle(self, reserved: int, spent: int, now: datetime) -> None:
        """Give back what a reservation did not use (or add what it missed)."""
        if spent != reserved:
            self.store.add_to_counter(
                tokens_key(now),
                spent - reserved,
                limit=None,
                expires_at=next_day(now) + timedelta(days=2),
            )

    def used(self, now: datetime) -> int:
        """Tokens spent (or reserved) today."""
        return self.store.read_counter(tokens_key(now))
