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

from bridge.domain import Delivery, Request, SortOrder, Source, Status, Submission, Vote
from bridge.ports import (
    DELIVERY_TTL,
    TALLY_INTERVAL,
    GitHubChanges,
    IdempotencyClaim,
    IdempotencyConflictError,
    InstallationChange,
    InvalidCursorError,
    ListQuery,
    OutboxStats,
    Page,
    StoreError,
    TallyDue,
)
from bridge.ranking import trend_add, trend_remove
from bridge.stores.codec import content_from_json, content_to_json, export_cursor, export_position
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
    """
    CREATE TABLE votes (
        app TEXT NOT NULL,
        number INTEGER NOT NULL,
        voter TEXT NOT NULL,
        weight INTEGER NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY (app, number, voter)
    );
    CREATE INDEX votes_by_voter ON votes (app, voter);
    ALTER TABLE requests ADD COLUMN tally_version INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE requests ADD COLUMN tally_written_version INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE requests ADD COLUMN tally_written_at REAL NOT NULL DEFAULT 0;
    CREATE INDEX requests_tally_due ON requests (tally_written_at)
        WHERE tally_version > tally_written_version;
    ALTER TABLE submissions ADD COLUMN voter_weight INTEGER NOT NULL DEFAULT 1;
    """,
    # export (issue 5, item 7): requests in (app, number) order with the export's
    # filter columns, so rows that do not match are skipped inside the index.
    """
    CREATE INDEX requests_export ON requests (app, number, status, updated_at);
    """,
    # boards (issue 6): the card's Status option on the app's board, owned by GitHub.
    """
    ALTER TABLE requests ADD COLUMN board_option TEXT;
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

    def diagnose(self) -> list[str]:
        """The schema is migrated on open, so only a newer schema than the code is a problem."""
        version = self._read("PRAGMA user_version")[0][0]
        if version > len(MIGRATIONS):
            return [
                f"{self.path} has schema version {version}, newer than this Feature Bridge"
                f" ({len(MIGRATIONS)}): upgrade featurebridge"
            ]
        return []

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
                " voter, voter_weight) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    submission.id,
                    submission.app,
                    submission.source.value,
                    content_to_json(submission.content),
                    to_sortable(submission.created_at),
                    (submission.next_attempt_at or submission.created_at).timestamp(),
                    submission.voter,
                    submission.voter_weight,
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
            submission = self._submission_row(db, submission_id)
            if submission is not None and submission.voter is not None:
                # The submitter's own vote, already counted in the request's bridge_votes.
                db.execute(
                    "INSERT OR IGNORE INTO votes (app, number, voter, weight, created_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (
                        request.app,
                        request.number,
                        submission.voter,
                        submission.voter_weight,
                        request.created_at.timestamp(),
                    ),
                )

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

    # ------------------------------------------------------------------ export

    def export_requests(
        self,
        *,
        apps: Sequence[str],
        status: Status | None,
        updated_since: datetime | None,
        limit: int,
        cursor: str | None,
    ) -> Page:
        """Requests of ``apps`` in (app, number) order; the cursor is the last (app, number).

        One index range per app on ``requests_export``, which also holds the
        filter columns: rows that do not match are skipped inside the index.
        """
        if limit < 1:
            raise ValueError("limit must be at least 1")
        after = export_position(cursor) if cursor is not None else None
        filters = ""
        values: list[Any] = []
        if status is not None:
            filters += " AND status = ?"
            values.append(status.value)
        if updated_since is not None:
            filters += " AND updated_at >= ?"
            values.append(_sortable_bound(updated_since))
        # Pinned: the planner would otherwise pick the primary key and read every row.
        scan = "requests INDEXED BY requests_export"
        rows: list[tuple[Any, ...]] = []
        for app in sorted(set(apps)):
            if after is not None and app < after[0]:
                continue
            start = after[1] if after is not None and app == after[0] else None
            where = "app = ?" + ("" if start is None else " AND number > ?") + filters
            sql = f"SELECT {_EXPORT_COLUMNS} FROM {scan} WHERE {where} ORDER BY number LIMIT ?"  # noqa: S608 -- fixed fragments, values are bound
            params = [app, *([] if start is None else [start]), *values, limit + 1 - len(rows)]
            rows.extend(self._read_tuples(sql, params))
            if len(rows) > limit:
                break
        labels: dict[str, tuple[str, ...]] = {}
        items = [_export_request(row, labels) for row in rows[:limit]]
        next_cursor = None
        if len(rows) > limit:
            app, number = rows[limit - 1][:2]
            next_cursor = export_cursor(app, number)
        return Page(items=items, next_cursor=next_cursor)

    def _read_tuples(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        # Plain tuples: the export reads many rows, and sqlite3.Row lookups by name add up.
        try:
            cursor = self._connection().cursor()
            cursor.row_factory = None
            return cursor.execute(sql, params).fetchall()
        except sqlite3.Error as error:
            raise StoreError(f"SQLite read failed: {error}") from error

    def _upsert(self, db: sqlite3.Connection, request: Request) -> None:
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

    # ------------------------------------------------------------------ votes

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
            return (_request(after), bool(added)) if after is not None else None

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
            return (_request(after), vote is not None) if after is not None else None

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
            "UPDATE requests SET bridge_votes = bridge_votes + ?,"
            " weighted_votes = weighted_votes + ?, total_votes = total_votes + ?,"
            " trend_score = ?, tally_version = tally_version + 1 WHERE app = ? AND number = ?",
            (votes, weight, votes, trend, app, number),
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


_EXPORT_COLUMNS = (
    "app, number, submission_id, title, status, labels, url, source, created_at, updated_at,"
    " closed_at, github_thumbs_up, bridge_votes, weighted_votes, duplicate_of, trend_score,"
    " board_option"
)
_STATUSES = {status.value: status for status in Status}
_SOURCES = {source.value: source for source in Source}


def _export_request(row: tuple[Any, ...], labels_seen: dict[str, tuple[str, ...]]) -> Request:
    """What ``_request`` builds, from a tuple of ``_EXPORT_COLUMNS``: about 3x faster.

    Label sets repeat across requests, so each distinct one is decoded once per page.
    """
    (
        app,
        number,
        submission_id,
        title,
        status,
        labels_text,
        url,
        source,
        created_at,
        updated_at,
        closed_at,
        thumbs_up,
        bridge_votes,
        weighted_votes,
        duplicate_of,
        trend,
        board_option,
    ) = row
    labels = labels_seen.get(labels_text)
    if labels is None:
        labels = labels_seen[labels_text] = tuple(json.loads(labels_text))
    return Request(
        app=app,
        number=number,
        submission_id=submission_id,
        title=title,
        status=_STATUSES[status],
        labels=labels,
        url=url,
        source=_SOURCES[source],
        created_at=_stored_time(created_at),
        updated_at=_stored_time(updated_at),
        closed_at=_stored_time(closed_at) if closed_at else None,
        github_thumbs_up=thumbs_up,
        bridge_votes=bridge_votes,
        weighted_votes=weighted_votes,
        duplicate_of=duplicate_of,
        trend=trend,
        board_option=board_option,
    )


def _stored_time(text: str) -> datetime:
    # to_sortable's text ends in Z, which fromisoformat reads as UTC; else the general parser.
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is UTC else parse_iso(text)


def _sortable_bound(moment: datetime) -> str:
    # to_sortable's text, with the year zero-padded even before 1000 (strftime does not).
    return moment.astimezone(UTC).isoformat(timespec="microseconds")[:26] + "Z"


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
        trend=row["trend_score"],
        board_option=row["board_option"],
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
        voter_weight=row["voter_weight"],
        outcome_unknown=bool(row["in_flight"]),
    )
