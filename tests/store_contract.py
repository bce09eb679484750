"""The index-store contract: every adapter passes these same tests.

A test module subclasses ``StoreContract`` and provides a ``store`` fixture.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bridge.domain import (
    Delivery,
    Request,
    SortOrder,
    Source,
    Status,
    Submission,
    SubmissionContent,
)
from bridge.ports import (
    DELIVERY_TTL,
    GitHubChanges,
    IdempotencyClaim,
    IdempotencyConflictError,
    IndexStore,
    InstallationChange,
    InvalidCursorError,
    ListQuery,
)

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def submission(
    sid: str, *, app: str = "mobile", at: datetime = T0, title: str = "Dark mode"
) -> Submission:
    return Submission(
        id=sid,
        app=app,
        source=Source.WIDGET,
        content=SubmissionContent(
            title=title,
            description="Please",
            metadata={"version": "1.2", "build": 7},
            email="ada@example.com",
            name="Ada",
        ),
        created_at=at,
        voter=f"submission:{sid}",
    )


def request(
    number: int,
    *,
    app: str = "mobile",
    votes: int = 0,
    title: str = "Request",
    status: Status = Status.OPEN,
    at: datetime = T0,
) -> Request:
    return Request(
        app=app,
        number=number,
        title=title,
        status=status,
        url=f"https://github.com/acme/{app}/issues/{number}",
        labels=("feature-request", f"app:{app}"),
        source=Source.API,
        created_at=at,
        updated_at=at,
        github_thumbs_up=votes,
        bridge_votes=1,
        weighted_votes=1,
    )


def claim(
    key: str, fp: str = "fp1", *, expires: datetime = T0 + timedelta(hours=24)
) -> IdempotencyClaim:
    return IdempotencyClaim(key=key, fingerprint=fp, expires_at=expires)


class StoreContract:
    """Behaviour every IndexStore adapter must have."""

    @pytest.fixture
    def store(self) -> IndexStore:  # pragma: no cover - each adapter module overrides this
        raise NotImplementedError

    # ---------------------------------------------------------------- outbox

    def test_ping_answers(self, store: IndexStore) -> None:
        store.ping()

    def test_submission_round_trips_private_fields(self, store: IndexStore) -> None:
        stored, created = store.create_submission(submission("s1"), idempotency=None, now=T0)
        assert created
        loaded = store.get_submission("s1")
        assert loaded is not None
        assert loaded.content == stored.content
        assert loaded.content.email == "ada@example.com"
        assert loaded.delivery is Delivery.QUEUED
        assert loaded.created_at == T0
        assert loaded.voter == "submission:s1"
        assert store.get_submission("missing") is None

    def test_repeat_key_returns_first_submission(self, store: IndexStore) -> None:
        store.create_submission(submission("s1"), idempotency=claim("k"), now=T0)
        again, created = store.create_submission(submission("s2"), idempotency=claim("k"), now=T0)
        assert not created
        assert again.id == "s1"
        assert store.get_submission("s2") is None

    def test_key_reused_with_other_body_conflicts(self, store: IndexStore) -> None:
        store.create_submission(submission("s1"), idempotency=claim("k"), now=T0)
        with pytest.raises(IdempotencyConflictError) as raised:
            store.create_submission(submission("s2"), idempotency=claim("k", "fp2"), now=T0)
        assert raised.value.submission_id == "s1"
        assert store.get_submission("s2") is None

    def test_expired_key_is_absent(self, store: IndexStore) -> None:
        store.create_submission(
            submission("s1"), idempotency=claim("k", expires=T0 + timedelta(hours=1)), now=T0
        )
        later = T0 + timedelta(hours=1, seconds=1)
        fresh, created = store.create_submission(
            submission("s2", at=later),
            idempotency=claim("k", "fp2", expires=later + timedelta(hours=24)),
            now=later,
        )
        assert created
        assert fresh.id == "s2"

    def test_keys_are_scoped_to_their_app(self, store: IndexStore) -> None:
        store.create_submission(submission("s1"), idempotency=claim("k"), now=T0)
        other, created = store.create_submission(
            submission("s2", app="web"), idempotency=claim("k", "fp2"), now=T0
        )
        assert created
        assert other.id == "s2"

    def test_concurrent_repeats_create_one_submission(self, store: IndexStore) -> None:
        results: list[tuple[str, bool]] = []
        lock = threading.Lock()

        def submit(n: int) -> None:
            made, created = store.create_submission(
                submission(f"s{n}"), idempotency=claim("k"), now=T0
            )
            with lock:
                results.append((made.id, created))

        threads = [threading.Thread(target=submit, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sum(created for _, created in results) == 1
        assert len({sid for sid, _ in results}) == 1

    def test_due_submissions_oldest_first_and_only_due(self, store: IndexStore) -> None:
        for n in range(3):
            store.create_submission(
                submission(f"s{n}", at=T0 + timedelta(seconds=n)), idempotency=None, now=T0
            )
        store.postpone("s0", until=T0 + timedelta(minutes=5))
        due = store.due_submissions(now=T0 + timedelta(seconds=10), limit=10)
        assert [s.id for s in due] == ["s1", "s2"]
        assert [s.id for s in store.due_submissions(now=T0 + timedelta(minutes=6), limit=1)] == [
            "s1"
        ]

    def test_claim_is_exclusive_until_the_lease_runs_out(self, store: IndexStore) -> None:
        store.create_submission(submission("s1"), idempotency=None, now=T0)
        first = store.claim_submission("s1", now=T0, lease_until=T0 + timedelta(minutes=2))
        assert first is not None
        assert first.attempts == 1
        assert not first.outcome_unknown
        assert (
            store.claim_submission(
                "s1", now=T0 + timedelta(minutes=1), lease_until=T0 + timedelta(minutes=3)
            )
            is None
        )
        assert store.due_submissions(now=T0 + timedelta(minutes=1), limit=10) == []
        # The holder died: once the lease runs out the next claim must look for the issue first.
        second = store.claim_submission(
            "s1", now=T0 + timedelta(minutes=3), lease_until=T0 + timedelta(minutes=5)
        )
        assert second is not None
        assert second.attempts == 2
        assert second.outcome_unknown

    def test_failed_attempt_schedules_and_records(self, store: IndexStore) -> None:
        store.create_submission(submission("s1"), idempotency=None, now=T0)
        store.claim_submission("s1", now=T0, lease_until=T0 + timedelta(minutes=2))
        store.record_failed_attempt(
            "s1", error="GitHub 502", next_attempt_at=T0 + timedelta(seconds=30)
        )
        loaded = store.get_submission("s1")
        assert loaded is not None
        assert loaded.last_error == "GitHub 502"
        assert loaded.next_attempt_at == T0 + timedelta(seconds=30)
        assert store.due_submissions(now=T0 + timedelta(seconds=29), limit=5) == []
        again = store.claim_submission(
            "s1", now=T0 + timedelta(seconds=30), lease_until=T0 + timedelta(minutes=3)
        )
        assert again is not None
        assert not again.outcome_unknown

    def test_unknown_outcome_is_remembered_for_the_next_claim(self, store: IndexStore) -> None:
        store.create_submission(submission("s1"), idempotency=None, now=T0)
        store.claim_submission("s1", now=T0, lease_until=T0 + timedelta(minutes=2))
        store.record_failed_attempt("s1", error="timeout", next_attempt_at=T0, outcome_unknown=True)
        again = store.claim_submission("s1", now=T0, lease_until=T0 + timedelta(minutes=2))
        assert again is not None
        assert again.outcome_unknown

    def test_postpone_spends_no_attempt(self, store: IndexStore) -> None:
        store.create_submission(submission("s1"), idempotency=None, now=T0)
        store.postpone("s1", until=T0 + timedelta(seconds=5))
        loaded = store.get_submission("s1")
        assert loaded is not None
        assert loaded.attempts == 0
        assert loaded.next_attempt_at == T0 + timedelta(seconds=5)

    def test_mark_delivered_indexes_the_request(self, store: IndexStore) -> None:
        store.create_submission(submission("s1"), idempotency=None, now=T0)
        store.claim_submission("s1", now=T0, lease_until=T0 + timedelta(minutes=2))
        store.mark_delivered("s1", request(7))
        loaded = store.get_submission("s1")
        assert loaded is not None
        assert loaded.delivery is Delivery.DELIVERED
        assert (loaded.number, loaded.url) == (7, "https://github.com/acme/mobile/issues/7")
        assert store.get_request("mobile", 7) == request(7)
        assert (
            store.claim_submission(
                "s1", now=T0 + timedelta(hours=1), lease_until=T0 + timedelta(hours=2)
            )
            is None
        )
        assert store.due_submissions(now=T0 + timedelta(hours=1), limit=5) == []

    def test_outbox_stats(self, store: IndexStore) -> None:
        assert store.outbox_stats().pending == 0
        assert store.outbox_stats().oldest_created_at is None
        store.create_submission(submission("s1", at=T0), idempotency=None, now=T0)
        store.create_submission(
            submission("s2", at=T0 + timedelta(seconds=9)), idempotency=None, now=T0
        )
        stats = store.outbox_stats()
        assert stats.pending == 2
        assert stats.oldest_created_at == T0

    # ---------------------------------------------------------------- requests

    def test_request_round_trip_and_replace(self, store: IndexStore) -> None:
        store.upsert_request(request(1, votes=3))
        assert store.get_request("mobile", 1) == request(1, votes=3)
        store.upsert_request(request(1, votes=5, status=Status.PLANNED))
        loaded = store.get_request("mobile", 1)
        assert loaded is not None
        assert (loaded.github_thumbs_up, loaded.status, loaded.total_votes) == (
            5,
            Status.PLANNED,
            6,
        )
        assert store.get_request("web", 1) is None

    def test_top_orders_by_votes_then_number(self, store: IndexStore) -> None:
        for number, votes in [(1, 5), (2, 9), (3, 5), (4, 0)]:
            store.upsert_request(request(number, votes=votes))
        store.upsert_request(request(5, app="web", votes=100))
        page = store.list_requests(ListQuery(app="mobile", sort=SortOrder.TOP, limit=10))
        assert [r.number for r in page.items] == [2, 3, 1, 4]
        assert page.next_cursor is None

    def test_new_orders_by_creation(self, store: IndexStore) -> None:
        for number in range(1, 5):
            store.upsert_request(request(number, at=T0 + timedelta(minutes=10 - number)))
        page = store.list_requests(ListQuery(app="mobile", sort=SortOrder.NEW, limit=10))
        assert [r.number for r in page.items] == [1, 2, 3, 4]

    def test_trending_prefers_recent_votes(self, store: IndexStore) -> None:
        store.upsert_request(request(1, votes=10, at=T0 - timedelta(days=30)))
        store.upsert_request(request(2, votes=3, at=T0))
        page = store.list_requests(ListQuery(app="mobile", sort=SortOrder.TRENDING, limit=10))
        assert [r.number for r in page.items] == [2, 1]

    def test_status_and_word_filters(self, store: IndexStore) -> None:
        store.upsert_request(request(1, title="Dark mode for settings"))
        store.upsert_request(request(2, title="Export to CSV", status=Status.PLANNED))
        store.upsert_request(request(3, title="dark MODE everywhere", status=Status.PLANNED))
        planned = store.list_requests(ListQuery(app="mobile", status=Status.PLANNED))
        assert {r.number for r in planned.items} == {2, 3}
        dark = store.list_requests(ListQuery(app="mobile", words=("dark", "mode")))
        assert {r.number for r in dark.items} == {1, 3}
        both = store.list_requests(ListQuery(app="mobile", words=("dark",), status=Status.PLANNED))
        assert [r.number for r in both.items] == [3]

    @pytest.mark.parametrize("sort", list(SortOrder))
    def test_paging_visits_every_request_once(self, store: IndexStore, sort: SortOrder) -> None:
        for number in range(1, 26):
            store.upsert_request(
                request(number, votes=number % 4, at=T0 + timedelta(seconds=number % 3))
            )
        seen: list[int] = []
        cursor = None
        pages = 0
        while True:
            page = store.list_requests(ListQuery(app="mobile", sort=sort, limit=7, cursor=cursor))
            seen.extend(r.number for r in page.items)
            pages += 1
            cursor = page.next_cursor
            if cursor is None:
                break
        assert pages == 4
        assert sorted(seen) == list(range(1, 26))
        whole = store.list_requests(ListQuery(app="mobile", sort=sort, limit=100))
        assert seen == [r.number for r in whole.items]

    def test_votes_reorder_without_breaking_cursors(self, store: IndexStore) -> None:
        for number in range(1, 6):
            store.upsert_request(request(number, votes=number))
        first = store.list_requests(ListQuery(app="mobile", limit=2))
        assert [r.number for r in first.items] == [5, 4]
        store.upsert_request(request(1, votes=10))  # jumps above the cursor: not repeated
        rest = store.list_requests(ListQuery(app="mobile", limit=10, cursor=first.next_cursor))
        assert [r.number for r in rest.items] == [3, 2]

    @pytest.mark.parametrize("cursor", ["", "not json", "[1]", '["x", 1]', '{"a": 1}', "[1, 2, 3]"])
    def test_foreign_cursor_is_refused(self, store: IndexStore, cursor: str) -> None:
        with pytest.raises(InvalidCursorError):
            store.list_requests(ListQuery(app="mobile", sort=SortOrder.TOP, cursor=cursor))

    # ---------------------------------------------------------------- changes from GitHub

    def test_github_changes_apply_once_per_delivery(self, store: IndexStore) -> None:
        changes = GitHubChanges(synced=[request(1, votes=2)])
        assert store.record_github_changes(changes, delivery_id="d1", now=T0)
        assert store.get_request("mobile", 1) == request(1, votes=2)
        store.record_github_changes(
            GitHubChanges(removed=[("mobile", 1)]), delivery_id="d2", now=T0
        )
        assert not store.record_github_changes(changes, delivery_id="d1", now=T0)
        assert store.get_request("mobile", 1) is None

    def test_delivery_ids_expire(self, store: IndexStore) -> None:
        changes = GitHubChanges(synced=[request(1)])
        store.record_github_changes(changes, delivery_id="d1", now=T0)
        later = T0 + DELIVERY_TTL + timedelta(seconds=1)
        assert store.record_github_changes(changes, delivery_id="d1", now=later)

    def test_changes_without_delivery_id_always_apply(self, store: IndexStore) -> None:
        assert store.record_github_changes(
            GitHubChanges(synced=[request(1)]), delivery_id=None, now=T0
        )
        assert store.record_github_changes(
            GitHubChanges(synced=[request(1)]), delivery_id=None, now=T0
        )

    def test_sync_keeps_the_bridges_own_fields(self, store: IndexStore) -> None:
        store.create_submission(submission("s1"), idempotency=None, now=T0)
        delivered = replace(
            request(1), source=Source.WIDGET, submission_id="s1", bridge_votes=4, weighted_votes=9
        )
        store.mark_delivered("s1", delivered)
        from_github = replace(
            request(1, votes=7, title="Renamed", status=Status.PLANNED),
            source=Source.GITHUB,
            bridge_votes=0,
            weighted_votes=0,
        )
        store.record_github_changes(GitHubChanges(synced=[from_github]), delivery_id=None, now=T0)
        loaded = store.get_request("mobile", 1)
        assert loaded is not None
        assert (loaded.title, loaded.status, loaded.github_thumbs_up) == (
            "Renamed",
            Status.PLANNED,
            7,
        )
        assert (loaded.source, loaded.submission_id) == (Source.WIDGET, "s1")
        assert (loaded.bridge_votes, loaded.weighted_votes, loaded.total_votes) == (4, 9, 11)

    def test_installations_track_repositories(self, store: IndexStore) -> None:
        assert store.installed_repos() == frozenset()
        store.record_github_changes(
            GitHubChanges(installation=InstallationChange(7, "acme", added=("acme/a", "acme/b"))),
            delivery_id="i1",
            now=T0,
        )
        store.record_github_changes(
            GitHubChanges(installation=InstallationChange(7, "acme", removed=("acme/a",))),
            delivery_id="i2",
            now=T0,
        )
        assert store.installed_repos() == frozenset({"acme/b"})
        store.record_github_changes(
            GitHubChanges(installation=InstallationChange(7, "acme", uninstalled=True)),
            delivery_id="i3",
            now=T0,
        )
        assert store.installed_repos() == frozenset()

    # ---------------------------------------------------------------- counters

    def test_rate_limit_counts_within_a_window(self, store: IndexStore) -> None:
        counts = [
            store.hit_rate_limit("k", window_seconds=3600, now=T0 + timedelta(seconds=n))
            for n in range(3)
        ]
        assert counts == [1, 2, 3]
        assert store.hit_rate_limit("other", window_seconds=3600, now=T0) == 1

    def test_rate_limit_window_expires(self, store: IndexStore) -> None:
        store.hit_rate_limit("k", window_seconds=60, now=T0)
        store.hit_rate_limit("k", window_seconds=60, now=T0 + timedelta(seconds=1))
        assert store.hit_rate_limit("k", window_seconds=60, now=T0 + timedelta(seconds=61)) == 1
