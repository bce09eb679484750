"""The SQLite adapter passes the store contract, on a real file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bridge.ports import StoreError
from bridge.stores import StoreUrlError, open_store
from bridge.stores.sqlite import MIGRATIONS, SQLiteStore
from tests.store_contract import StoreContract


class TestSQLiteStore(StoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> SQLiteStore:
        return SQLiteStore(tmp_path / "index.db")


def test_schema_version_tracks_migrations(tmp_path: Path) -> None:
    SQLiteStore(tmp_path / "index.db")
    with sqlite3.connect(tmp_path / "index.db") as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    # Opening again migrates nothing and keeps the data.
    SQLiteStore(tmp_path / "index.db").ping()


def test_unreachable_file_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError):
        SQLiteStore(tmp_path / "missing-dir" / "index.db")


def test_open_store_by_url(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'x.db'}")
    store.ping()
    with pytest.raises(StoreUrlError, match="sqlite:///"):
        open_store("postgres://nope")
