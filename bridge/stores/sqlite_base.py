"""The SQLite store's plumbing: per-thread connections, write transactions,
migrations, and the row helpers the store's parts share."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TypeAlias

from bridge.domain import Request, Submission
from bridge.ports import (
    StoreError,
)
from bridge.stores.sqlite_rows import submission_of_row
from bridge.stores.sqlite_schema import MIGRATIONS
from bridge.timeutil import to_sortable

# Tables whose records expire (``expires_at``, epoch seconds).
Expiring: TypeAlias = Literal["idempotency_keys", "deliveries", "rate_counters"]


def statements(script: str) -> Iterator[str]:
    """The SQL statements of a script, a trigger's body (``BEGIN ...; END``) kept whole."""
    pending = ""
    for part in script.split(";"):
        pending += part + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                yield pending
            pending = ""


def connect(path: str) -> sqlite3.Connection:
    """A connection for one thread: autocommit (transactions are explicit), WAL, rows by name."""
    try:
        connection = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=True)
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA busy_timeout=30000")
    except sqlite3.Error as error:
        raise StoreError(f"cannot open SQLite database {path}: {error}") from error
    return connection


class SQLiteBase:
    """Connections and transactions over one SQLite database file."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._local = threading.local()
        self._migrate_lock = threading.Lock()
        self._migrate()

    # ------------------------------------------------------------------ plumbing

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = connect(self.path)
            self._local.connection = connection
        return connection

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        connection = self._connection()
        try:
            connection.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as error:
            raise StoreError(f"SQLite write failed: {error}") from error
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        else:
            connection.execute("COMMIT")

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        try:
            return self._connection().execute(sql, params).fetchall()
        except sqlite3.Error as error:
            raise StoreError(f"SQLite read failed: {error}") from error

    def _migrate(self) -> None:
        with self._migrate_lock, self._write() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in statements(script):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {number}")

    def close(self) -> None:
        """Close this thread's connection."""
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    # ------------------------------------------------------------------ health

    def ping(self) -> None:
        """Raise StoreError when the database cannot answer."""
        self._read("SELECT 1")

    def diagnose(self) -> list[str]:
        """The schema is migrated on open, so only a newer schema than the code is a problem."""
        version = self._read("PRAGMA user_version")[0][0]
        if version > len(MIGRATIONS):
            return [
                f"{self.path} has schema version {version}, newer than this Feature Bridge"
                f" ({len(MIGRATIONS)}): upgrade featurebridge"
            ]
        return []

    def _upsert(self, db: sqlite3.Connection, request: Request) -> None:
        if request.description is not None:
            # A new request's text goes in whole before its row, whose trigger then finds
            # it there: one write to the search index instead of three (title, then the
            # description's delete and insert).
            db.execute(
                "INSERT OR IGNORE INTO request_text (app, number, title, description)"
                " VALUES (?, ?, ?, ?)",
                (request.app, request.number, request.title, request.description),
            )
        # An upsert, not INSERT OR REPLACE: the tally bookkeeping columns survive.
        db.execute(
            "INSERT INTO requests (app, number, submission_id, title, title_folded,"
            " status, labels, url, source, created_at, updated_at, closed_at, github_thumbs_up,"
            " bridge_votes, weighted_votes, total_votes, trend_score, duplicate_of, board_option)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (app, number) DO UPDATE SET submission_id = excluded.submission_id,"
            " title = excluded.title, title_folded = excluded.title_folded,"
            " status = excluded.status, labels = excluded.labels, url = excluded.url,"
            " source = excluded.source, created_at = excluded.created_at,"
            " updated_at = excluded.updated_at, closed_at = excluded.closed_at,"
            " github_thumbs_up = excluded.github_thumbs_up, bridge_votes = excluded.bridge_votes,"
            " weighted_votes = excluded.weighted_votes, total_votes = excluded.total_votes,"
            " trend_score = excluded.trend_score, duplicate_of = excluded.duplicate_of,"
            " board_option = excluded.board_option",
            (
                request.app,
                request.number,
                request.submission_id,
                request.title,
                request.title.casefold(),
                request.status.value,
                json.dumps(list(request.labels), ensure_ascii=False),
                request.url,
                request.source.value,
                to_sortable(request.created_at),
                to_sortable(request.updated_at),
                to_sortable(request.closed_at) if request.closed_at else None,
                request.github_thumbs_up,
                request.bridge_votes,
                request.weighted_votes,
                request.total_votes,
                request.trend,
                request.duplicate_of,
                request.board_option,
            ),
        )
        if request.description is not None:
            # request_text's row exists: made above, or by a trigger on requests.
            db.execute(
                "UPDATE request_text SET description = ?"
                " WHERE app = ? AND number = ? AND description != ?",
                (request.description, request.app, request.number, request.description),
            )

    @classmethod
    def _count_hit(
        cls, db: sqlite3.Connection, key: str, *, window_seconds: int, now: datetime
    ) -> int:
        """Count a hit in the fixed window of ``key`` that contains ``now``; the count."""
        window_start = now.timestamp() // window_seconds * window_seconds
        expires_at = window_start + window_seconds
        cls._prune(db, "rate_counters", now)
        count: int = db.execute(
            "INSERT INTO rate_counters (key, window_start, count, expires_at)"
            " VALUES (?, ?, 1, ?) ON CONFLICT (key) DO UPDATE SET"
            " count = CASE WHEN rate_counters.expires_at <= ? OR"
            "   rate_counters.window_start != excluded.window_start THEN 1"
            "   ELSE rate_counters.count + 1 END,"
            " window_start = excluded.window_start, expires_at = excluded.expires_at"
            " RETURNING count",
            (key, window_start, expires_at, now.timestamp()),
        ).fetchone()[0]
        return count

    @staticmethod
    def _prune(db: sqlite3.Connection, table: Expiring, now: datetime) -> None:
        """Housekeeping: delete the table's records past their expiry (DynamoDB's TTL
        does this there); every read treats them as absent anyway."""
        db.execute(f"DELETE FROM {table} WHERE expires_at <= ?", (now.timestamp(),))  # noqa: S608 -- a fixed table name

    @staticmethod
    def _request_row(db: sqlite3.Connection, app: str, number: int) -> sqlite3.Row | None:
        row: sqlite3.Row | None = db.execute(
            "SELECT * FROM requests WHERE app = ? AND number = ?", (app, number)
        ).fetchone()
        return row

    @staticmethod
    def _count(
        db: sqlite3.Connection, app: str, number: int, *, votes: int, weight: int, trend: float
    ) -> None:
        db.execute(
            # Never below zero, whatever an earlier upsert left in the counters.
            "UPDATE requests SET bridge_votes = MAX(0, bridge_votes + ?),"
            " weighted_votes = MAX(0, weighted_votes + ?),"
            " total_votes = github_thumbs_up + MAX(0, bridge_votes + ?),"
            " trend_score = ?, tally_version = tally_version + 1 WHERE app = ? AND number = ?",
            (votes, weight, votes, trend, app, number),
        )

    def _submission_row(self, db: sqlite3.Connection, submission_id: str) -> Submission | None:
        row = db.execute("SELECT * FROM submissions WHERE id = ?", (submission_id,)).fetchone()
        return submission_of_row(row) if row is not None else None
