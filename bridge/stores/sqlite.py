"""The index store on one SQLite file (WAL), for ``featurebridge serve``.

Each thread gets its own connection; writes run in ``BEGIN IMMEDIATE``
transactions so concurrent writers queue on SQLite's lock instead of failing
half-way. The schema belongs to the code: migrations run on open, in order,
tracked by ``PRAGMA user_version``.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bridge.domain import Delivery, Request, SortOrder, Source, Status, Submission
from bridge.ports import (
    DELIVERY_TTL,
    GitHubChanges,
    IdempotencyClaim,
    IdempotencyConflictError,
    InstallationChange,
    InvalidCursorError,
    ListQuery,
    OutboxStats,
    Page,
    StoreError,
)
from bridge.ranking import trending_score
from bridge.stores.codec import content_from_json, content_to_json
from bridge.timeutil import parse_iso, to_sortable

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE requests (
        app TEXT NOT NULL,
        number INTEGER NOT NULL,
        submission_id TEXT,
        title TEXT NOT NULL,
        title_folded TEXT NOT NULL,
        status TEXT NOT NULL,
        labels TEXT NOT NULL,
        url TEXT NOT NULL,
        source TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        closed_at TEXT,
        github_thumbs_up INTEGER NOT NULL DEFAULT 0,
        bridge_votes INTEGER NOT NULL DEFAULT 0,
        weighted_votes INTEGER NOT NULL DEFAULT 0,
        total_votes INTEGER NOT NULL DEFAULT 0,
        trend_score REAL NOT NULL DEFAULT 0,
        duplicate_of INTEGER,
        PRIMARY KEY (app, number)
    );
    CREATE INDEX requests_top ON requests (app, total_votes DESC, number DESC);
    CREATE INDEX requests_new ON requests (app, created_at DESC, number DESC);
    CREATE INDEX requests_trending ON requests (app, trend_score DESC, number DESC);
    CREATE INDEX requests_status ON requests (app, status, total_votes DESC, number DESC);

    CREATE TABLE submissions (
        id TEXT PRIMARY KEY,
        app TEXT NOT NULL,
        source TEXT NOT NULL,
        content TEXT NOT NULL,
        created_at TEXT NOT NULL,
        delivered INTEGER NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL,
        lease_until REAL,
        in_flight INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        number INTEGER,
        url TEXT,
        voter TEXT
    );
    CREATE INDEX submissions_due ON submissions (next_attempt_at) WHERE delivered = 0;

    CREATE TABLE idempotency_keys (
        app TEXT NOT NULL,
        key TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        submission_id TEXT NOT NULL,
        expires_at REAL NOT NULL,
        PRIMARY KEY (app, key)
    );

    CREATE TABLE rate_counters (
        key TEXT PRIMARY KEY,
        window_start REAL NOT NULL,
        count INTEGER NOT NULL,
        expires_at REAL NOT NULL
    );
    """,
    """
    CREATE TABLE deliveries (
        id TEXT PRIMARY KEY,
        expires_at REAL NOT NULL
    );
    CREATE TABLE installations (
        repo TEXT PRIMARY KEY,
        installation_id INTEGER NOT NULL,
        account TEXT NOT NULL
    );
    """,
)

_ORDER: dict[SortOrder, tuple[str, str]] = {
    # sort -> (column compared by the keyset cursor, ORDER BY clause)
    SortOrder.TOP: ("total_votes", "total_votes DESC, number DESC"),
    SortOrder.NEW: ("created_at", "created_at DESC, number DESC"),
    SortOrder.TRENDING: ("trend_score", "trend_score DESC, number DESC"),
}


class SQLiteStore:
    """IndexStore over one SQLite database file."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._local = threading.local()
        self._migrate_lock = threading.Lock()
        self._migrate()

    # ------------------------------------------------------------------ plumbing

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            try:
                connection = sqlite3.connect(
                    self.path, timeout=30, isolation_level=None, check_same_thread=True
                )
                connection.row_factory = sqlite3.Row
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("PRAGMA synchronous=NORMAL")
                connection.execute("PRAGMA busy_timeout=30000")
            except sqlite3.Error as error:
                raise StoreError(f"cannot open SQLite database {self.path}: {error}") from error
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
                for statement in script.split(";"):
                    if statement.strip():
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

    # ------------------------------------------------------------------ outbox

    def create_submission(
        self, submission: Submission, *, idempotency: IdempotencyClaim | None, now: datetime
    ) -> tuple[Submission, bool]:
        """Store a submission, or return the one its live idempotency key made."""
        with self._write() as db:
            if idempotency is not None:
                row = db.execute(
                    "SELECT fingerprint, submission_id, expires_at FROM idempotency_keys"
                    " WHERE app = ? AND key = ?",
                    (submission.app, idempotency.key),
                ).fetchone()
                if row is not None and row["expires_at"] > now.timestamp():
                    if row["fingerprint"] != idempotency.fingerprint:
                        raise IdempotencyConflictError(row["submission_id"])
                    existing = self._submission_row(db, row["submission_id"])
                    if existing is not None:
                        return existing, False
                db.execute(
                    "INSERT OR REPLACE INTO idempotency_keys"
                    " (app, key, fingerprint, submission_id, expires_at) VALUES (?, ?, ?, ?, ?)",
                    (
                        submission.app,
                        idempotency.key,
                        idempotency.fingerprint,
                        submission.id,
                        idempotency.expires_at.timestamp(),
                    ),
                )
            db.execute(
                "INSERT INTO submissions (id, app, source, content, created_at, next_attempt_at,"
                " voter) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    submission.id,
                    submission.app,
                    submission.source.value,
                    content_to_json(submission.content),
                    to_sortable(submission.created_at),
                    (submission.next_attempt_at or submission.created_at).timestamp(),
                    submission.voter,
                ),
            )
        return submission, True

    def get_submission(self, submission_id: str) -> Submission | None:
        """The submission with this id."""
        return self._submission_row(self._connection(), submission_id)

    def due_submissions(self, *, now: datetime, limit: int) -> Sequence[Submission]:
        """Undelivered submissions due for an attempt, oldest due first."""
        rows = self._read(
            "SELECT * FROM submissions WHERE delivered = 0 AND next_attempt_at <= ?"
            " AND (lease_until IS NULL OR lease_until <= ?)"
            " ORDER BY next_attempt_at LIMIT ?",
            (now.timestamp(), now.timestamp(), limit),
        )
        return [_submission(row) for row in rows]

    def claim_submission(
        self, submission_id: str, *, now: datetime, lease_until: datetime
    ) -> Submission | None:
        """Lease an undelivered submission unless another worker holds it."""
        with self._write() as db:
            before = self._submission_row(db, submission_id)
            if before is None or before.delivery is Delivery.DELIVERED:
                return None
            claimed = db.execute(
                "UPDATE submissions SET lease_until = ?, attempts = attempts + 1, in_flight = 1"
                " WHERE id = ? AND delivered = 0 AND (lease_until IS NULL OR lease_until <= ?)",
                (lease_until.timestamp(), submission_id, now.timestamp()),
            ).rowcount
            if not claimed:
                return None
            after = self._submission_row(db, submission_id)
            # The caller needs to know whether the *previous* attempt left things unknown.
            return replace(after, outcome_unknown=before.outcome_unknown) if after else None

    def record_failed_attempt(
        self,
        submission_id: str,
        *,
        error: str,
        next_attempt_at: datetime,
        outcome_unknown: bool = False,
    ) -> None:
        """Release the lease and schedule the next attempt."""
        with self._write() as db:
            db.execute(
                "UPDATE submissions SET lease_until = NULL, last_error = ?, next_attempt_at = ?,"
                " in_flight = ? WHERE id = ? AND delivered = 0",
                (error[:1000], next_attempt_at.timestamp(), int(outcome_unknown), submission_id),
            )

    def postpone(self, submission_id: str, *, until: datetime) -> None:
        """Move the next attempt without spending one."""
        with self._write() as db:
            db.execute(
                "UPDATE submissions SET next_attempt_at = ? WHERE id = ? AND delivered = 0",
                (until.timestamp(), submission_id),
            )

    def mark_delivered(self, submission_id: str, request: Request) -> None:
        """Record the issue and index the request in one transaction."""
        with self._write() as db:
            db.execute(
                "UPDATE submissions SET delivered = 1, lease_until = NULL, in_flight = 0,"
                " last_error = NULL, number = ?, url = ? WHERE id = ?",
                (request.number, request.url, submission_id),
            )
            self._upsert(db, request)

    def outbox_stats(self) -> OutboxStats:
        """How many submissions wait, and the oldest one's age."""
        row = self._read(
            "SELECT COUNT(*) AS pending, MIN(created_at) AS oldest FROM submissions"
            " WHERE delivered = 0"
        )[0]
        oldest = parse_iso(row["oldest"]) if row["oldest"] else None
        return OutboxStats(pending=row["pending"], oldest_created_at=oldest)

    def _submission_row(self, db: sqlite3.Connection, submission_id: str) -> Submission | None:
        row = db.execute("SELECT * FROM submissions WHERE id = ?", (submission_id,)).fetchone()
        return _submission(row) if row is not None else None

    # ------------------------------------------------------------------ requests

    def upsert_request(self, request: Request) -> None:
        """Insert or replace one request."""
        with self._write() as db:
            self._upsert(db, request)

    def get_request(self, app: str, number: int) -> Request | None:
        """One request of an app."""
        rows = self._read("SELECT * FROM requests WHERE app = ? AND number = ?", (app, number))
        return _request(rows[0]) if rows else None

    def list_requests(self, query: ListQuery) -> Page:
        """A keyset-paged listing; the cursor is the last row's sort key and number."""
        column, order = _ORDER[query.sort]
        where = ["app = ?"]
        params: list[Any] = [query.app]
        if query.status is not None:
            where.append("status = ?")
            params.append(query.status.value)
        for word in query.words:
            where.append("instr(title_folded, ?) > 0")
            params.append(word)
        if query.cursor is not None:
            key, number = _decode_position(query.cursor, column)
            where.append(f"({column}, number) < (?, ?)")
            params.extend([key, number])
        sql = f"SELECT * FROM requests WHERE {' AND '.join(where)} ORDER BY {order} LIMIT ?"  # noqa: S608 -- columns come from _ORDER, values are bound
        rows = self._read(sql, [*params, query.limit + 1])
        items = [_request(row) for row in rows[: query.limit]]
        next_cursor = None
        if len(rows) > query.limit:
            last = rows[query.limit - 1]
            next_cursor = json.dumps([last[column], last["number"]])
        return Page(items=items, next_cursor=next_cursor)

    def _upsert(self, db: sqlite3.Connection, request: Request) -> None:
        db.execute(
            "INSERT OR REPLACE INTO requests (app, number, submission_id, title, title_folded,"
            " status, labels, url, source, created_at, updated_at, closed_at, github_thumbs_up,"
            " bridge_votes, weighted_votes, total_votes, trend_score, duplicate_of)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                trending_score(request.total_votes, request.created_at),
                request.duplicate_of,
            ),
        )

    # ------------------------------------------------------------------ GitHub

    def record_github_changes(
        self, changes: GitHubChanges, *, delivery_id: str | None, now: datetime
    ) -> bool:
        """Apply GitHub's changes, at most once per delivery id."""
        with self._write() as db:
            if delivery_id is not None:
                seen = db.execute(
                    "SELECT expires_at FROM deliveries WHERE id = ?", (delivery_id,)
                ).fetchone()
                if seen is not None and seen["expires_at"] > now.timestamp():
                    return False
                db.execute(
                    "INSERT OR REPLACE INTO deliveries (id, expires_at) VALUES (?, ?)",
                    (delivery_id, (now + DELIVERY_TTL).timestamp()),
                )
            for request in changes.synced:
                self._sync(db, request)
            for app, number in changes.removed:
                db.execute("DELETE FROM requests WHERE app = ? AND number = ?", (app, number))
            if changes.installation is not None:
                self._install(db, changes.installation)
        return True

    def installed_repos(self) -> frozenset[str]:
        """Repositories the App is installed on."""
        return frozenset(row["repo"] for row in self._read("SELECT repo FROM installations"))

    def _sync(self, db: sqlite3.Connection, request: Request) -> None:
        existing = db.execute(
            "SELECT bridge_votes, weighted_votes, source, submission_id FROM requests"
            " WHERE app = ? AND number = ?",
            (request.app, request.number),
        ).fetchone()
        if existing is not None:
            request = replace(
                request,
                bridge_votes=existing["bridge_votes"],
                weighted_votes=existing["weighted_votes"],
                source=Source(existing["source"]),
                submission_id=existing["submission_id"],
            )
        self._upsert(db, request)

    @staticmethod
    def _install(db: sqlite3.Connection, change: InstallationChange) -> None:
        if change.uninstalled:
            db.execute(
                "DELETE FROM installations WHERE installation_id = ?", (change.installation_id,)
            )
        for repo in change.removed:
            db.execute("DELETE FROM installations WHERE repo = ?", (repo,))
        for repo in change.added:
            db.execute(
                "INSERT OR REPLACE INTO installations (repo, installation_id, account)"
                " VALUES (?, ?, ?)",
                (repo, change.installation_id, change.account),
            )

    # ------------------------------------------------------------------ counters

    def hit_rate_limit(self, key: str, *, window_seconds: int, now: datetime) -> int:
        """Count a hit in the fixed window that contains ``now``."""
        window_start = now.timestamp() // window_seconds * window_seconds
        expires_at = window_start + window_seconds
        with self._write() as db:
            db.execute(
                "INSERT INTO rate_counters (key, window_start, count, expires_at)"
                " VALUES (?, ?, 1, ?) ON CONFLICT (key) DO UPDATE SET"
                " count = CASE WHEN rate_counters.expires_at <= ? OR"
                "   rate_counters.window_start != excluded.window_start THEN 1"
                "   ELSE rate_counters.count + 1 END,"
                " window_start = excluded.window_start, expires_at = excluded.expires_at",
                (key, window_start, expires_at, now.timestamp()),
            )
            count: int = db.execute(
                "SELECT count FROM rate_counters WHERE key = ?", (key,)
            ).fetchone()[0]
            return count


def _decode_position(cursor: str, column: str) -> tuple[Any, int]:
    try:
        key, number = json.loads(cursor)
    except (ValueError, TypeError) as error:
        raise InvalidCursorError("cursor is not a position of this listing") from error
    expected = str if column == "created_at" else (int, float)
    if (
        not isinstance(key, expected)
        or isinstance(key, bool)
        or not isinstance(number, int)
        or isinstance(number, bool)
    ):
        raise InvalidCursorError("cursor is not a position of this listing")
    return key, number


def _request(row: sqlite3.Row) -> Request:
    return Request(
        app=row["app"],
        number=row["number"],
        submission_id=row["submission_id"],
        title=row["title"],
        status=Status(row["status"]),
        labels=tuple(json.loads(row["labels"])),
        url=row["url"],
        source=Source(row["source"]),
        created_at=parse_iso(row["created_at"]),
        updated_at=parse_iso(row["updated_at"]),
        closed_at=parse_iso(row["closed_at"]) if row["closed_at"] else None,
        github_thumbs_up=row["github_thumbs_up"],
        bridge_votes=row["bridge_votes"],
        weighted_votes=row["weighted_votes"],
        duplicate_of=row["duplicate_of"],
    )


def _submission(row: sqlite3.Row) -> Submission:
    return Submission(
        id=row["id"],
        app=row["app"],
        source=Source(row["source"]),
        content=content_from_json(row["content"]),
        created_at=parse_iso(row["created_at"]),
        delivery=Delivery.DELIVERED if row["delivered"] else Delivery.QUEUED,
        attempts=row["attempts"],
        next_attempt_at=datetime.fromtimestamp(row["next_attempt_at"], UTC),
        last_error=row["last_error"],
        number=row["number"],
        url=row["url"],
        voter=row["voter"],
        outcome_unknown=bool(row["in_flight"]),
    )
