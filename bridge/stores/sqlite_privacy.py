"""``forget_person`` on SQLite: every text column of every table, read from the schema.

Reading the columns from the schema (not a list kept here) means a column
added later is covered without anyone remembering to. The full-text index
follows ``request_text`` through its triggers, so its own tables are skipped.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from bridge.privacy.forget import (
    ForgetReport,
    anonymised_voter,
    forgotten_content,
    mentions,
    scrubbed,
)
from bridge.stores.codec import content_from_json, content_to_json
from bridge.stores.sqlite_base import SQLiteBase
from bridge.timeutil import to_sortable

_SEARCH_TABLES = "request_search"  # the FTS5 table and its shadow tables share this prefix


def _columns(db: sqlite3.Connection) -> list[tuple[str, str, bool]]:
    """``(table, column, in_primary_key)`` of every ordinary table's column."""
    tables = [
        row[0]
        for row in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
            " AND name NOT LIKE 'sqlite_%' AND name NOT LIKE ?",
            (_SEARCH_TABLES + "%",),
        )
    ]
    return [
        (table, info[1], info[5] > 0)
        for table in tables
        for info in db.execute(f'PRAGMA table_info("{table}")')
    ]


def _content(text: str, address: str) -> str:
    return content_to_json(forgotten_content(content_from_json(text), address))


def _replacement(table: str, column: str, key: bool, value: str, address: str) -> str:
    if (table, column) == ("submissions", "content"):
        return _content(value, address)
    if key or column == "voter":
        # Keys and voter ids must stay distinct and equal wherever they recur.
        return anonymised_voter(value)
    return scrubbed(value, address)


class PrivacyMixin(SQLiteBase):
    """``forget_person`` of :class:`bridge.stores.sqlite.SQLiteStore`."""

    def forget_person(self, address: str, *, dry_run: bool = False) -> ForgetReport:
        """Erase one (normalised) address from the index; votes stay, anonymised."""
        counts: dict[str, int] = {"submissions": 0, "votes": 0, "texts": 0}
        with self._write() as db:
            for table, column, key in _columns(db):
                # LIKE narrows (ASCII case-insensitive, '_' a wildcard); mentions() decides.
                # Table and column names come from the schema, never from input.
                select = f'SELECT rowid, "{column}" FROM "{table}" WHERE "{column}" LIKE ?'  # noqa: S608
                rows: list[Any] = db.execute(select, (f"%{address}%",)).fetchall()
                for rowid, value in rows:
                    if not isinstance(value, str) or not mentions(value, address):
                        continue
                    kind = table if table in ("submissions", "votes") else "texts"
                    counts[kind] += 1
                    if not dry_run:
                        new = _replacement(table, column, key, value, address)
                        update = f'UPDATE "{table}" SET "{column}" = ? WHERE rowid = ?'  # noqa: S608
                        db.execute(update, (new, rowid))
        return ForgetReport(**counts)

    def drop_personal_data(self, *, before: datetime) -> int:
        """One UPDATE over the submissions older than ``before`` that still hold either."""
        with self._write() as db:
            changed = db.execute(
                "UPDATE submissions SET content = json_set(content, '$.email', json('null'),"
                " '$.name', json('null')) WHERE created_at < ?"
                " AND (json_extract(content, '$.email') IS NOT NULL"
                " OR json_extract(content, '$.name') IS NOT NULL)",
                (to_sortable(before),),
            )
            return changed.rowcount
