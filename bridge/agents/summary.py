"""A vote summary folded from export pages: pure, no I/O.

Memory stays flat however many pages the export has: the totals are sums of each
page's own ``totals``, and only the ``top`` best requests are kept.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from msgspec import Struct, field

# The fields of an export row a summary shows for one request.
ROW_FIELDS = (
    "number",
    "title",
    "status",
    "url",
    "github_thumbs_up",
    "bridge_votes",
    "total_votes",
    "weighted_votes",
    "unique_voters",
    "category",
    "priority",
)


class VoteSummary(Struct):
    """Totals, requests per status and the ``top`` most voted requests of export pages."""

    top: int
    totals: Counter[str] = field(default_factory=Counter)
    by_status: Counter[str] = field(default_factory=Counter)
    _best: list[tuple[int, int, dict[str, Any]]] = field(default_factory=list)

    def add_page(self, document: Mapping[str, Any]) -> None:
        """Count one page of ``GET /v1/export?format=json``."""
        self.totals.update(document["totals"])
        for row in document["requests"]:
            self.by_status[row["status"]] += 1
            # Most votes first; among equals the older request (lower number).
            entry = (row["total_votes"], -row["number"], {key: row[key] for key in ROW_FIELDS})
            if len(self._best) < self.top:
                heapq.heappush(self._best, entry)
            elif entry[:2] > self._best[0][:2]:
                heapq.heapreplace(self._best, entry)

    def to_json(self, *, movers: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """The summary, with the biggest movers found elsewhere (the trending listing)."""
        ranked = sorted(self._best, key=lambda entry: entry[:2], reverse=True)
        return {
            "totals": dict(self.totals),
            "by_status": dict(sorted(self.by_status.items())),
            "top_requests": [row for _, _, row in ranked],
            "biggest_movers": [
                {key: mover[key] for key in ROW_FIELDS if key in mover} for mover in movers
            ],
        }
