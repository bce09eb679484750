"""The SQLite index's share of the analysis: the request's analysis, shared counters."""

from __future__ import annotations

from datetime import datetime

from bridge.domain import AnalysisRecord
from bridge.stores.analysis_codec import analysis_to_json
from bridge.stores.sqlite_base import SQLiteBase

_KEEP_SECONDS = 7 * 24 * 3600


class AnalysisMixin(SQLiteBase):
    """``record_analysis`` and the counters behind the daily token budget."""

    def record_analysis(self, app: str, number: int, record: AnalysisRecord) -> bool:
        """Keep ``record`` as the request's analysis; False when the request is not indexed."""
        with self._write() as db:
            cursor = db.execute(
                "UPDATE requests SET analysis = ? WHERE app = ? AND number = ?",
                (analysis_to_json(record), app, number),
            )
            return cursor.rowcount == 1

    def add_to_counter(
        self, key: str, amount: int, *, limit: int | None, expires_at: datetime
    ) -> bool:
        """Add ``amount`` unless the total would pass ``limit``; whether it was added.

        ``BEGIN IMMEDIATE`` makes the read and the write one step for every
        process sharing the file.
        """
        with self._write() as db:
            # Housekeeping: counters of long-past days go (their keys name the day, so
            # reads need no expiry check, and the caller's clock is the only one used).
            db.execute(
                "DELETE FROM counters WHERE expires_at < ?",
                (expires_at.timestamp() - _KEEP_SECONDS,),
            )
            row = db.execute("SELECT value FROM counters WHERE key = ?", (key,)).fetchone()
            current = row[0] if row else 0
            if limit is not None and amount > 0 and current + amount > limit:
                return False
            db.execute(
                "INSERT INTO counters (key, value, expires_at) VALUES (?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = counters.value + excluded.value",
                (key, amount, expires_at.timestamp()),
            )
            return True

    def read_counter(self, key: str) -> int:
        """The counter's value; 0 when it was never added to."""
        rows = self._read("SELECT value FROM counters WHERE key = ?", (key,))
        return int(rows[0][0]) if rows else 0
