"""Votes and vote tallies in the SQLite index."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from bridge.domain import Request, Vote
from bridge.ports import (
    TALLY_INTERVAL,
    TallyDue,
)
from bridge.ranking import trend_add, trend_remove
from bridge.stores.sqlite_base import SQLiteBase
from bridge.stores.sqlite_rows import request_of_row


class VotesMixin(SQLiteBase):
    """Unique votes with atomic counters, and the tally bookkeeping."""

    def add_vote(self, vote: Vote) -> tuple[Request, bool] | None:
        """Insert the vote if new and move the counters in the same transaction."""
        with self._write() as db:
            row = self._request_row(db, vote.app, vote.number)
            if row is None:
                return None
            added = db.execute(
                "INSERT OR IGNORE INTO votes (app, number, voter, weight, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (vote.app, vote.number, vote.voter, vote.weight, vote.created_at.timestamp()),
            ).rowcount
            if added:
                trend = trend_add(row["trend_score"], vote.created_at, vote.weight)
                self._count(db, vote.app, vote.number, votes=1, weight=vote.weight, trend=trend)
            after = self._request_row(db, vote.app, vote.number)
            return (request_of_row(after), bool(added)) if after is not None else None

    def remove_vote(
        self, app: str, number: int, voter: str, *, now: datetime
    ) -> tuple[Request, bool] | None:
        """Delete the vote if there is one and move the counters back."""
        with self._write() as db:
            row = self._request_row(db, app, number)
            if row is None:
                return None
            vote = db.execute(
                "SELECT weight, created_at FROM votes WHERE app = ? AND number = ? AND voter = ?",
                (app, number, voter),
            ).fetchone()
            if vote is not None:
                db.execute(
                    "DELETE FROM votes WHERE app = ? AND number = ? AND voter = ?",
                    (app, number, voter),
                )
                at = datetime.fromtimestamp(vote["created_at"], UTC)
                trend = trend_remove(row["trend_score"], at, vote["weight"])
                self._count(db, app, number, votes=-1, weight=-vote["weight"], trend=trend)
            after = self._request_row(db, app, number)
            return (request_of_row(after), vote is not None) if after is not None else None

    def voted(self, app: str, voter: str, numbers: Sequence[int]) -> frozenset[int]:
        """The numbers among ``numbers`` this voter voted for."""
        if not numbers:
            return frozenset()
        marks = ", ".join("?" for _ in numbers)
        rows = self._read(
            f"SELECT number FROM votes WHERE app = ? AND voter = ? AND number IN ({marks})",  # noqa: S608 -- placeholders only
            [app, voter, *numbers],
        )
        return frozenset(row["number"] for row in rows)

    def move_votes(self, app: str, source: int, target: int, *, now: datetime) -> int:
        """Union the source's voters into the target's and empty the source."""
        if source == target:
            return 0
        with self._write() as db:
            target_row = self._request_row(db, app, target)
            if target_row is None or self._request_row(db, app, source) is None:
                return 0
            moving = db.execute(
                "SELECT voter, weight, created_at FROM votes WHERE app = ? AND number = ?",
                (app, source),
            ).fetchall()
            gained = gained_weight = 0
            trend = target_row["trend_score"]
            for vote in moving:
                if db.execute(
                    "INSERT OR IGNORE INTO votes (app, number, voter, weight, created_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (app, target, vote["voter"], vote["weight"], vote["created_at"]),
                ).rowcount:
                    gained += 1
                    gained_weight += vote["weight"]
                    trend = trend_add(trend, now, vote["weight"])
            source_row = self._request_row(db, app, source)
            if source_row is None:  # pragma: no cover - checked above, in this transaction
                return 0
            db.execute("DELETE FROM votes WHERE app = ? AND number = ?", (app, source))
            self._count(
                db,
                app,
                source,
                votes=-len(moving),
                weight=-sum(vote["weight"] for vote in moving),
                trend=source_row["trend_score"],
            )
            if gained:
                self._count(db, app, target, votes=gained, weight=gained_weight, trend=trend)
            return gained

    def due_tallies(self, *, now: datetime, limit: int) -> Sequence[TallyDue]:
        """Tallies behind their votes and not written within the last interval."""
        rows = self._read(
            "SELECT app, number, tally_version FROM requests"
            " WHERE tally_version > tally_written_version AND tally_written_at <= ?"
            " ORDER BY tally_written_at LIMIT ?",
            ((now - TALLY_INTERVAL).timestamp(), limit),
        )
        return [TallyDue(row["app"], row["number"], row["tally_version"]) for row in rows]

    def record_tally(self, app: str, number: int, *, version: int, now: datetime) -> None:
        """Remember the version written and when."""
        with self._write() as db:
            db.execute(
                "UPDATE requests SET tally_written_version = MAX(tally_written_version, ?),"
                " tally_written_at = ? WHERE app = ? AND number = ?",
                (version, now.timestamp(), app, number),
            )
