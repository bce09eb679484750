"""The index store on one SQLite file (WAL), for ``featurebridge serve``.

Each thread gets its own connection; writes run in ``BEGIN IMMEDIATE``
transactions so concurrent writers queue on SQLite's lock instead of failing
half-way. The schema belongs to the code: migrations run on open, in order,
tracked by ``PRAGMA user_version``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from msgspec.structs import replace

from bridge.domain import Request, SortOrder, Source, Status
from bridge.ports import (
    DELIVERY_TTL,
    ExportPage,
    GitHubChanges,
    InstallationChange,
    ListQuery,
    Page,
    StoreError,
    SyncMarks,
)
from bridge.stores.codec import export_cursor, export_position
from bridge.stores.sqlite_analysis import AnalysisMixin
from bridge.stores.sqlite_base import SQLiteBase
from bridge.stores.sqlite_email import EmailMixin
from bridge.stores.sqlite_notify import NotifyMixin
from bridge.stores.sqlite_outbox import OutboxMixin
from bridge.stores.sqlite_privacy import PrivacyMixin
from bridge.stores.sqlite_rows import (
    EXPORT_ROW_COLUMNS,
    decode_position,
    export_rows,
    request_of_row,
    sortable_bound,
)
from bridge.stores.sqlite_schema import MIGRATIONS
from bridge.stores.sqlite_similar import SimilarMixin
from bridge.stores.sqlite_votes import VotesMixin
from bridge.timeutil import parse_iso, to_sortable

__all__ = ["MIGRATIONS", "SQLiteStore"]

_ORDER: dict[SortOrder, tuple[str, str]] = {
    # sort -> (column compared by the keyset cursor, ORDER BY clause)
    SortOrder.TOP: ("total_votes", "total_votes DESC, number DESC"),
    SortOrder.NEW: ("created_at", "created_at DESC, number DESC"),
    SortOrder.TRENDING: ("trend_score", "trend_score DESC, number DESC"),
}


# What a request keeps while it is out of its app (and the timestamp that orders changes).
_BRIDGE_OWNED = "source, submission_id, bridge_votes, weighted_votes, updated_at"


class SQLiteStore(
    OutboxMixin,
    VotesMixin,
    AnalysisMixin,
    SimilarMixin,
    PrivacyMixin,
    NotifyMixin,
    EmailMixin,
    SQLiteBase,
):
    """IndexStore over one SQLite database file."""

    # ------------------------------------------------------------------ requests

    def upsert_request(self, request: Request) -> None:
        """Insert or replace one request."""
        with self._write() as db:
            self._upsert(db, request)

    def get_request(self, app: str, number: int) -> Request | None:
        """One request of an app."""
        rows = self._read("SELECT * FROM requests WHERE app = ? AND number = ?", (app, number))
        return request_of_row(rows[0]) if rows else None

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
            key, number = decode_position(query.cursor, column)
            where.append(f"({column}, number) < (?, ?)")
            params.extend([key, number])
        sql = f"SELECT * FROM requests WHERE {' AND '.join(where)} ORDER BY {order} LIMIT ?"  # noqa: S608 -- columns come from _ORDER, values are bound
        rows = self._read(sql, [*params, query.limit + 1])
        items = [request_of_row(row) for row in rows[: query.limit]]
        next_cursor = None
        if len(rows) > query.limit:
            last = rows[query.limit - 1]
            next_cursor = json.dumps([last[column], last["number"]])
        return Page(items=items, next_cursor=next_cursor)

    # ------------------------------------------------------------------ export

    def export_rows(
        self,
        *,
        apps: Sequence[str],
        status: Status | None,
        updated_since: datetime | None,
        limit: int,
        cursor: str | None,
    ) -> ExportPage:
        """Export rows of ``apps`` in (app, number) order; the cursor is the last (app, number).

        One index range per app on ``requests_export``, which also holds the
        filter columns: rows that do not match are skipped inside the index.
        SQLite computes each row's cells (``EXPORT_ROW_COLUMNS``), so no
        ``Request`` is built on the way.
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
            values.append(sortable_bound(updated_since))
        # Filtered, pinned: the planner would otherwise pick the primary key and read every
        # row. Unfiltered, the primary key's narrower index reads a third faster.
        scan = "requests INDEXED BY requests_export" if filters else "requests"
        rows: list[tuple[Any, ...]] = []
        for app in sorted(set(apps)):
            if after is not None and app < after[0]:
                continue
            start = after[1] if after is not None and app == after[0] else None
            where = "app = ?" + ("" if start is None else " AND number > ?") + filters
            sql = f"SELECT {EXPORT_ROW_COLUMNS} FROM {scan} WHERE {where} ORDER BY number LIMIT ?"  # noqa: S608 -- fixed fragments, values are bound
            params = [app, *([] if start is None else [start]), *values, limit + 1 - len(rows)]
            rows.extend(self._read_tuples(sql, params))
            if len(rows) > limit:
                break
        next_cursor = None
        if len(rows) > limit:
            app, number = rows[limit - 1][:2]
            next_cursor = export_cursor(app, number)
        return ExportPage(rows=export_rows(rows[:limit]), next_cursor=next_cursor)

    def _read_tuples(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        # Plain tuples: the export reads many rows, and sqlite3.Row lookups by name add up.
        try:
            cursor = self._connection().cursor()
            cursor.row_factory = None
            return cursor.execute(sql, params).fetchall()
        except sqlite3.Error as error:
            raise StoreError(f"SQLite read failed: {error}") from error

    # ------------------------------------------------------------------ GitHub

    def record_github_changes(
        self, changes: GitHubChanges, *, delivery_id: str | None, now: datetime
    ) -> bool:
        """Apply GitHub's changes, at most once per delivery id."""
        with self._write() as db:
            if delivery_id is not None:
                self._prune(db, "deliveries", now)
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
                self._depart(db, app, number)
            if changes.installation is not None:
                self._install(db, changes.installation)
        return True

    def installed_repos(self) -> frozenset[str]:
        """Repositories the App is installed on."""
        return frozenset(row["repo"] for row in self._read("SELECT repo FROM installations"))

    def sync_marks(self, app: str) -> SyncMarks:
        """The app's sync marks (a row of ``sync_marks``)."""
        rows = self._read("SELECT since, full_at FROM sync_marks WHERE app = ?", (app,))
        if not rows:
            return SyncMarks()
        since, full_at = rows[0]["since"], rows[0]["full_at"]
        return SyncMarks(
            since=parse_iso(since) if since else None,
            full_at=parse_iso(full_at) if full_at else None,
        )

    def record_sync(self, app: str, marks: SyncMarks) -> None:
        """Replace the app's sync marks."""
        with self._write() as db:
            db.execute(
                "INSERT OR REPLACE INTO sync_marks (app, since, full_at) VALUES (?, ?, ?)",
                (
                    app,
                    to_sortable(marks.since) if marks.since else None,
                    to_sortable(marks.full_at) if marks.full_at else None,
                ),
            )

    def _sync(self, db: sqlite3.Connection, request: Request) -> None:
        """Apply GitHub's view of a request, keeping the bridge's own fields.

        A request that left its app and comes back gets them from
        ``departed_requests``; a change strictly older than the index's
        (by the issue's ``updated_at``) is ignored.
        """
        key = (request.app, request.number)
        existing = (
            db.execute(
                f"SELECT {_BRIDGE_OWNED} FROM requests WHERE app = ? AND number = ?",  # noqa: S608 -- fixed columns
                key,
            ).fetchone()
            or db.execute(
                f"SELECT {_BRIDGE_OWNED} FROM departed_requests WHERE app = ? AND number = ?",  # noqa: S608 -- fixed columns
                key,
            ).fetchone()
        )
        if existing is not None:
            if existing["updated_at"] > to_sortable(request.updated_at):
                return
            request = replace(
                request,
                bridge_votes=existing["bridge_votes"],
                weighted_votes=existing["weighted_votes"],
                source=Source(existing["source"]),
                submission_id=existing["submission_id"],
            )
        self._upsert(db, request)
        db.execute("DELETE FROM departed_requests WHERE app = ? AND number = ?", key)

    @staticmethod
    def _depart(db: sqlite3.Connection, app: str, number: int) -> None:
        """Take a request out of the index, keeping what only the bridge knows."""
        db.execute(
            f"INSERT OR REPLACE INTO departed_requests (app, number, {_BRIDGE_OWNED})"  # noqa: S608 -- fixed columns
            f" SELECT app, number, {_BRIDGE_OWNED} FROM requests WHERE app = ? AND number = ?",
            (app, number),
        )
        db.execute("DELETE FROM requests WHERE app = ? AND number = ?", (app, number))

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
        with self._write() as db:
            return self._count_hit(db, key, window_seconds=window_seconds, now=now)
