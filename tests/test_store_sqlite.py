"""The SQLite adapter passes the store contract, on a real file."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from bridge.ports import DELIVERY_TTL, GitHubChanges, StoreError
from bridge.stores import StoreUrlError, open_store
from bridge.stores.sqlite import MIGRATIONS, SQLiteStore
from tests.store_contract import T0, StoreContract, claim, submission


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


def test_expired_records_are_pruned_from_the_file(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "index.db")
    key = claim("k1", expires=T0 + timedelta(hours=24))
    store.create_submission(submission("s1"), idempotency=key, now=T0)
    store.record_github_changes(GitHubChanges(), delivery_id="d1", now=T0)
    store.hit_rate_limit("ip", window_seconds=60, now=T0)
    later = T0 + max(DELIVERY_TTL, timedelta(hours=24)) + timedelta(seconds=1)
    store.create_submission(submission("s2"), idempotency=claim("k2"), now=later)
    store.record_github_changes(GitHubChanges(), delivery_id="d2", now=later)
    store.hit_rate_limit("other-ip", window_seconds=60, now=later)
    with sqlite3.connect(tmp_path / "index.db") as db:
        assert [row[0] for row in db.execute("SELECT key FROM idempotency_keys")] == ["k2"]
        assert [row[0] for row in db.execute("SELECT id FROM deliveries")] == ["d2"]
        assert [row[0] for row in db.execute("SELECT key FROM rate_counters")] == ["other-ip"]
