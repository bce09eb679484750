"""The SQLite adapter passes the store contract, on a real file."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from msgspec.structs import replace

from bridge.domain import Source
from bridge.ports import DELIVERY_TTL, GitHubChanges, StoreError
from bridge.stores import StoreUrlError, open_store
from bridge.stores.sqlite import MIGRATIONS, SQLiteStore
from tests.outbox_contract import OutboxContract
from tests.review_contract import ReviewContract
from tests.store_contract import T0, StoreContract, claim, request, submission


class TestSQLiteStore(StoreContract, ReviewContract, OutboxContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> SQLiteStore:
        return SQLiteStore(tmp_path / "index.db")

    @pytest.fixture
    def stored_text(self, store: SQLiteStore, tmp_path: Path) -> Callable[[], str]:
        """Every text value of every table and column the schema lists, the FTS index's own."""

        def read() -> str:
            with sqlite3.connect(tmp_path / "index.db") as db:
                tables = [
                    row[0]
                    for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                ]
                values = [
                    value
                    for table in tables
                    for row in db.execute(f'SELECT * FROM "{table}"')
                    for value in row
                ]
            return "\n".join(
                value.decode(errors="replace") if isinstance(value, bytes) else str(value)
                for value in values
            )

        return read


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


# ------------------------------------------------------------------ search over descriptions


def _numbers(store: SQLiteStore, title: str, description: str = "") -> list[int]:
    return [match.request.number for match in store.similar("mobile", title, description)]


def test_descriptions_are_searched_and_kept_until_github_changes_them(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "index.db")
    store.create_submission(submission("s1"), idempotency=None, now=T0)
    store.mark_delivered("s1", replace(request(1, title="Night"), description="a darker palette"))
    assert _numbers(store, "palette") == [1]
    # A sync that did not read the body (None) keeps the description ...
    unread = replace(request(1, title="Night"), source=Source.GITHUB)
    store.record_github_changes(GitHubChanges(synced=[unread]), delivery_id=None, now=T0)
    assert _numbers(store, "palette") == [1]
    # ... an edited body on GitHub replaces it.
    edited = replace(unread, description="high contrast colours")
    store.record_github_changes(GitHubChanges(synced=[edited]), delivery_id=None, now=T0)
    assert _numbers(store, "palette") == []
    assert _numbers(store, "contrast") == [1]


def test_title_words_outrank_the_same_words_in_a_description(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "index.db")
    for number in range(1, 8):
        store.upsert_request(replace(request(number, title=f"Unrelated {number}"), description=""))
    store.upsert_request(replace(request(10, title="Other"), description="export to pdf"))
    store.upsert_request(replace(request(11, title="Export to PDF"), description=""))
    assert _numbers(store, "pdf export")[:2] == [11, 10]


def test_search_stems_words(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "index.db")
    store.upsert_request(request(1, title="Exporting reports"))
    assert _numbers(store, "export report") == [1]


def test_migration_indexes_existing_requests_with_their_submissions_text(tmp_path: Path) -> None:
    path = tmp_path / "index.db"
    store = SQLiteStore(path)
    held = submission("s1")
    held = replace(held, content=replace(held.content, description="A darker palette"))
    store.create_submission(held, idempotency=None, now=T0)
    store.mark_delivered("s1", replace(request(1, title="Themes"), submission_id="s1"))
    store.close()
    search = next(n for n, script in enumerate(MIGRATIONS) if "request_text (" in script)
    with sqlite3.connect(path) as db:  # back to the schema before search
        db.executescript(
            "DROP TABLE request_search; DROP TABLE request_text;"
            " DROP TRIGGER requests_text_inserted; DROP TRIGGER requests_title_changed;"
            " DROP TRIGGER requests_text_deleted;"
            # later migrations:
            " DROP TABLE event_claims; DROP TABLE notifications; DROP TABLE sync_marks;"
            " DROP TABLE email_subscribers; DROP TABLE email_follows;"
            " DROP TABLE email_suppressions;"
            " DROP INDEX submissions_held; DROP INDEX submissions_queued;"
            " ALTER TABLE submissions DROP COLUMN hold;"
            " ALTER TABLE submissions DROP COLUMN moderation;"
            f" PRAGMA user_version = {search};"
        )
    reopened = SQLiteStore(path)
    assert _numbers(reopened, "palette") == [1]  # the submission's description
    assert _numbers(reopened, "themes") == [1]
