"""The index-store contract: every adapter passes these same tests.

A test module subclasses ``StoreContract`` and provides a ``store`` fixture.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
from msgspec.structs import replace

from bridge.domain import (
    AnalysisRecord,
    Delivery,
    Hold,
    Request,
    SortOrder,
    Source,
    Status,
    Submission,
    SubmissionContent,
    Vote,
)
from bridge.export import Row, export_row
from bridge.ports import (
    DELIVERY_TTL,
    TALLY_INTERVAL,
    GitHubChanges,
    IdempotencyClaim,
    IdempotencyConflictError,
    IndexStore,
    InstallationChange,
    InvalidCursorError,
    ListQuery,
    RateHit,
    RateLimitedError,
    RepeatCheck,
    SyncMarks,
)
from bridge.privacy.forget import ForgetReport, anonymised_voter
from bridge.ranking import trend_seed

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

    @pytest.fixture
    def stored_text(self, store: IndexStore) -> Callable[[], str]:  # pragma: no cover
        """Everything the store holds, as one text (each adapter reads its own storage)."""
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

    @pytest.mark.parametrize("key", [None, "k1"])
    def test_a_submission_stored_leased_is_claimed_by_its_creator(
        self, store: IndexStore, key: str | None
    ) -> None:
        claim = IdempotencyClaim(key, "fp", T0 + timedelta(days=1)) if key else None
        lease_until = T0 + timedelta(minutes=2)
        stored, created = store.create_submission(
            submission("s1"), idempotency=claim, now=T0, lease_until=lease_until
        )
        assert created
        assert (stored.attempts, stored.outcome_unknown) == (1, False)
        # Nobody else may claim it, or find it due, while the lease runs.
        assert store.claim_submission("s1", now=T0, lease_until=lease_until) is None
        assert store.due_submissions(now=T0 + timedelta(minutes=1), limit=10) == []
        # Its creator died mid-attempt: the next claim looks for the issue first.
        again = store.claim_submission("s1", now=lease_until, lease_until=T0 + timedelta(minutes=5))
        assert again is not None
        assert (again.attempts, again.outcome_unknown) == (2, True)

    def test_a_held_submission_is_never_stored_leased(self, store: IndexStore) -> None:
        held = replace(submission("s1"), hold=Hold.HELD)
        stored, _ = store.create_submission(
            held, idempotency=None, now=T0, lease_until=T0 + timedelta(minutes=2)
        )
        assert stored.attempts == 0
        loaded = store.get_submission("s1")
        assert loaded is not None
        assert (loaded.hold, loaded.attempts, loaded.outcome_unknown) == (Hold.HELD, 0, False)

    def test_a_repeat_is_stored_with_the_checks_hold_and_signals(self, store: IndexStore) -> None:
        repeat = RepeatCheck("repeat:abc", window_seconds=3600, hold=Hold.HELD, signals=("repeat",))
        lease_until = T0 + timedelta(minutes=2)
        first, _ = store.create_submission(
            submission("s1"), idempotency=None, now=T0, repeat=repeat, lease_until=lease_until
        )
        second, created = store.create_submission(
            submission("s2"), idempotency=None, now=T0, repeat=repeat, lease_until=lease_until
        )
        assert created
        assert (first.hold, first.signals, first.attempts) == (None, (), 1)
        assert (second.hold, second.signals, second.attempts) == (Hold.HELD, ("repeat",), 0)
        stored = store.get_submission("s2")  # held: never leased, never sent
        assert stored is not None
        assert (stored.hold, stored.signals, stored.attempts, stored.outcome_unknown) == (
            Hold.HELD,
            ("repeat",),
            0,
            False,
        )
        # Another window: seen for the first time again.
        later = T0 + timedelta(hours=1)
        third, _ = store.create_submission(
            submission("s3"), idempotency=None, now=later, repeat=repeat
        )
        assert (third.hold, third.signals) == (None, ())

    def test_an_unstarted_lease_is_given_back_unspent(self, store: IndexStore) -> None:
        store.create_submission(
            submission("s1"), idempotency=None, now=T0, lease_until=T0 + timedelta(minutes=2)
        )
        store.release_lease("s1", until=T0 + timedelta(seconds=30))
        loaded = store.get_submission("s1")
        assert loaded is not None
        assert (loaded.attempts, loaded.outcome_unknown) == (0, False)
        assert loaded.next_attempt_at == T0 + timedelta(seconds=30)
        assert store.due_submissions(now=T0 + timedelta(seconds=29), limit=5) == []
        due = store.due_submissions(now=T0 + timedelta(seconds=30), limit=5)
        assert [s.id for s in due] == ["s1"]
        claimed = store.claim_submission(
            "s1", now=T0 + timedelta(seconds=30), lease_until=T0 + timedelta(minutes=3)
        )
        assert claimed is not None
        assert (claimed.attempts, claimed.outcome_unknown) == (1, False)

    def test_a_spent_rate_refuses_the_submission_and_keeps_the_hit(self, store: IndexStore) -> None:
        rate = RateHit("submission:mobile::1.2.3.4", window_seconds=3600, limit=2)
        for sid in ("s1", "s2"):
            assert store.create_submission(submission(sid), idempotency=None, now=T0, rate=rate)[1]
        claim = IdempotencyClaim("k3", "fp", T0 + timedelta(days=1))
        with pytest.raises(RateLimitedError) as refused:
            store.create_submission(
                submission("s3"),
                idempotency=claim,
                now=T0,
                rate=rate,
                lease_until=T0 + timedelta(minutes=2),
            )
        assert refused.value.hit == rate
        assert store.get_submission("s3") is None
        # Every call counted, the refused one too (as hit_rate_limit counts): this is the 4th.
        assert store.hit_rate_limit(rate.key, window_seconds=3600, now=T0) == 4
        # The refused key was not kept: in the next window it makes a new submission.
        later = T0 + timedelta(hours=1)
        created = store.create_submission(submission("s4"), idempotency=claim, now=later, rate=rate)
        assert created[0].id == "s4"
        assert created[1]

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

    def test_trending_orders_by_the_stored_trend(self, store: IndexStore) -> None:
        old = replace(
            request(1, votes=10, at=T0 - timedelta(days=30)),
            trend=trend_seed(T0 - timedelta(days=30)),
        )
        store.upsert_request(old)
        store.upsert_request(replace(request(2, votes=3, at=T0), trend=trend_seed(T0)))
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

    def test_leaving_and_rejoining_keeps_votes_voters_and_submission(
        self, store: IndexStore
    ) -> None:
        store.create_submission(submission("s1"), idempotency=None, now=T0)
        delivered = replace(request(1), source=Source.WIDGET, submission_id="s1")
        store.mark_delivered("s1", delivered)
        store.add_vote(Vote("mobile", 1, "user-1", T0, weight=3))
        later = T0 + timedelta(minutes=1)
        store.record_github_changes(
            GitHubChanges(removed=[("mobile", 1)]), delivery_id="left", now=later
        )
        assert store.get_request("mobile", 1) is None
        assert store.add_vote(Vote("mobile", 1, "user-2", later)) is None
        back = replace(request(1, at=later), source=Source.GITHUB, bridge_votes=0, weighted_votes=0)
        store.record_github_changes(GitHubChanges(synced=[back]), delivery_id="back", now=later)
        loaded = store.get_request("mobile", 1)
        assert loaded is not None
        assert (loaded.source, loaded.submission_id) == (Source.WIDGET, "s1")
        assert (loaded.bridge_votes, loaded.weighted_votes) == (2, 4)
        assert store.voted("mobile", "user-1", [1]) == frozenset({1})
        again = store.add_vote(Vote("mobile", 1, "user-1", later))
        assert again is not None
        assert (again[0].bridge_votes, again[1]) == (2, False)
        removed = store.remove_vote("mobile", 1, "user-1", now=later)
        assert removed is not None
        assert (removed[0].bridge_votes, removed[0].weighted_votes, removed[1]) == (1, 1, True)

    def test_an_issue_born_on_github_rejoins_as_it_left(self, store: IndexStore) -> None:
        born = replace(request(1), source=Source.GITHUB, bridge_votes=0, weighted_votes=0)
        store.record_github_changes(GitHubChanges(synced=[born]), delivery_id=None, now=T0)
        store.add_vote(Vote("mobile", 1, "user-1", T0))
        store.record_github_changes(
            GitHubChanges(removed=[("mobile", 1)]), delivery_id=None, now=T0
        )
        store.record_github_changes(GitHubChanges(synced=[born]), delivery_id=None, now=T0)
        loaded = store.get_request("mobile", 1)
        assert loaded is not None
        assert (loaded.source, loaded.submission_id, loaded.bridge_votes) == (
            Source.GITHUB,
            None,
            1,
        )

    def test_counters_never_go_below_zero(self, store: IndexStore) -> None:
        store.upsert_request(request(1))
        store.add_vote(Vote("mobile", 1, "user-1", T0, weight=3))
        # A stale full write of the request, counters behind its votes.
        store.upsert_request(replace(request(1), bridge_votes=0, weighted_votes=0))
        removed = store.remove_vote("mobile", 1, "user-1", now=T0)
        assert removed is not None
        after = removed[0]
        assert (after.bridge_votes, after.weighted_votes, after.total_votes) == (0, 0, 0)
        loaded = store.get_request("mobile", 1)
        assert loaded is not None
        assert (loaded.bridge_votes, loaded.weighted_votes, loaded.total_votes) == (0, 0, 0)

    def test_a_strictly_older_change_from_github_changes_nothing(self, store: IndexStore) -> None:
        newer = T0 + timedelta(seconds=1)
        store.record_github_changes(
            GitHubChanges(synced=[replace(request(1, title="New"), updated_at=newer)]),
            delivery_id=None,
            now=newer,
        )
        older = replace(request(1, title="Old", status=Status.PLANNED), updated_at=T0)
        store.record_github_changes(GitHubChanges(synced=[older]), delivery_id="d1", now=newer)
        loaded = store.get_request("mobile", 1)
        assert loaded is not None
        assert (loaded.title, loaded.status, loaded.updated_at) == ("New", Status.OPEN, newer)
        equal = replace(request(1, title="Same second"), updated_at=newer)
        store.record_github_changes(GitHubChanges(synced=[equal]), delivery_id="d2", now=newer)
        loaded = store.get_request("mobile", 1)
        assert loaded is not None
        assert loaded.title == "Same second"

    def test_an_older_change_does_not_bring_a_departed_request_back(
        self, store: IndexStore
    ) -> None:
        newer = T0 + timedelta(seconds=5)
        store.upsert_request(replace(request(1), updated_at=newer))
        store.record_github_changes(
            GitHubChanges(removed=[("mobile", 1)]), delivery_id=None, now=T0
        )
        store.record_github_changes(GitHubChanges(synced=[request(1)]), delivery_id=None, now=T0)
        assert store.get_request("mobile", 1) is None

    def test_board_option_round_trips(self, store: IndexStore) -> None:
        on_board = replace(request(1, status=Status.IN_PROGRESS), board_option="In Progress")
        store.upsert_request(on_board)
        store.upsert_request(request(2))
        assert store.get_request("mobile", 1) == on_board
        assert store.get_request("mobile", 2) == request(2)
        listed = store.list_requests(ListQuery(app="mobile", sort=SortOrder.NEW, limit=10))
        assert {r.number: r.board_option for r in listed.items} == {1: "In Progress", 2: None}
        store.upsert_request(replace(on_board, board_option=None))  # taken off the board
        assert store.get_request("mobile", 1) == replace(on_board, board_option=None)

    def test_github_sync_writes_the_board_option_and_votes_keep_it(self, store: IndexStore) -> None:
        store.create_submission(submission("s1"), idempotency=None, now=T0)
        delivered = replace(request(1), source=Source.WIDGET, submission_id="s1", bridge_votes=2)
        store.mark_delivered("s1", delivered)
        from_github = replace(
            request(1, status=Status.PLANNED), source=Source.GITHUB, board_option="Planned"
        )
        store.record_github_changes(GitHubChanges(synced=[from_github]), delivery_id=None, now=T0)
        store.add_vote(Vote("mobile", 1, "user-1", T0))
        loaded = store.get_request("mobile", 1)
        assert loaded is not None
        assert (loaded.board_option, loaded.status, loaded.bridge_votes) == (
            "Planned",
            Status.PLANNED,
            3,
        )
        assert (loaded.source, loaded.submission_id) == (Source.WIDGET, "s1")
        moved = replace(from_github, board_option="Done", status=Status.COMPLETED)
        store.record_github_changes(GitHubChanges(synced=[moved]), delivery_id=None, now=T0)
        again = store.get_request("mobile", 1)
        assert again is not None
        assert (again.board_option, again.status, again.bridge_votes) == (
            "Done",
            Status.COMPLETED,
            3,
        )
        off = replace(from_github, board_option=None, status=Status.OPEN)
        store.record_github_changes(GitHubChanges(synced=[off]), delivery_id=None, now=T0)
        assert store.get_request("mobile", 1).board_option is None  # type: ignore[union-attr]

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

    def test_sync_marks_round_trip_per_app(self, store: IndexStore) -> None:
        assert store.sync_marks("mobile") == SyncMarks()
        first = SyncMarks(since=T0, full_at=T0)
        store.record_sync("mobile", first)
        later = SyncMarks(since=T0 + timedelta(minutes=15, microseconds=7), full_at=T0)
        store.record_sync("mobile", later)
        assert store.sync_marks("mobile") == later
        assert store.sync_marks("web") == SyncMarks()
        store.record_sync("web", SyncMarks(since=T0))
        assert store.sync_marks("web") == SyncMarks(since=T0, full_at=None)
        assert store.sync_marks("mobile") == later

    def test_sync_marks_are_not_requests(self, store: IndexStore) -> None:
        store.upsert_request(request(1))
        store.record_sync("mobile", SyncMarks(since=T0, full_at=T0))
        page = store.list_requests(ListQuery(app="mobile", sort=SortOrder.NEW, limit=100))
        assert [r.number for r in page.items] == [1]
        exported = store.export_rows(
            apps=["mobile"], status=None, updated_since=None, limit=100, cursor=None
        )
        assert [r.number for r in exported.rows] == [1]

    # ---------------------------------------------------------------- votes

    def test_vote_counts_once_per_voter(self, store: IndexStore) -> None:
        store.upsert_request(request(1, votes=2))
        first = store.add_vote(Vote("mobile", 1, "user-1", T0, weight=3))
        assert first is not None
        after, added = first
        assert added
        assert (after.bridge_votes, after.weighted_votes, after.total_votes) == (2, 4, 4)
        again = store.add_vote(Vote("mobile", 1, "user-1", T0, weight=3))
        assert again is not None
        assert again[1] is False
        assert again[0].bridge_votes == 2
        assert store.add_vote(Vote("mobile", 99, "user-1", T0)) is None

    def test_unvote_moves_the_counters_back(self, store: IndexStore) -> None:
        store.upsert_request(request(1))
        store.add_vote(Vote("mobile", 1, "user-1", T0, weight=5))
        removed = store.remove_vote("mobile", 1, "user-1", now=T0)
        assert removed is not None
        after, existed = removed
        assert existed
        assert (after.bridge_votes, after.weighted_votes) == (1, 1)
        again = store.remove_vote("mobile", 1, "user-1", now=T0)
        assert again is not None
        assert again[1] is False
        assert store.remove_vote("mobile", 2, "user-1", now=T0) is None

    def test_voted_tells_which_requests_a_voter_voted_for(self, store: IndexStore) -> None:
        for number in (1, 2, 3):
            store.upsert_request(request(number))
        store.add_vote(Vote("mobile", 1, "user-1", T0))
        store.add_vote(Vote("mobile", 3, "user-1", T0))
        store.add_vote(Vote("mobile", 2, "user-2", T0))
        assert store.voted("mobile", "user-1", [1, 2, 3, 4]) == frozenset({1, 3})
        assert store.voted("web", "user-1", [1, 2, 3]) == frozenset()
        assert store.voted("mobile", "user-1", []) == frozenset()

    def test_concurrent_votes_lose_nothing(self, store: IndexStore) -> None:
        store.upsert_request(replace(request(1), bridge_votes=0, weighted_votes=0))
        errors: list[BaseException] = []

        def vote(n: int) -> None:
            try:
                store.add_vote(Vote("mobile", 1, f"user-{n % 20}", T0, weight=2))
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=vote, args=(n,)) for n in range(40)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        after = store.get_request("mobile", 1)
        assert after is not None
        assert (after.bridge_votes, after.weighted_votes) == (20, 40)

    def test_votes_raise_the_trend(self, store: IndexStore) -> None:
        store.upsert_request(replace(request(1), trend=trend_seed(T0)))
        store.upsert_request(replace(request(2), trend=trend_seed(T0)))
        store.add_vote(Vote("mobile", 2, "user-1", T0 + timedelta(days=1)))
        page = store.list_requests(ListQuery(app="mobile", sort=SortOrder.TRENDING))
        assert [r.number for r in page.items] == [2, 1]
        store.remove_vote("mobile", 2, "user-1", now=T0 + timedelta(days=1))
        trend = store.get_request("mobile", 2)
        assert trend is not None
        assert trend.trend == pytest.approx(trend_seed(T0))

    def test_delivered_submission_carries_its_submitters_vote(self, store: IndexStore) -> None:
        store.create_submission(
            replace(submission("s1"), voter="user-9", voter_weight=4), idempotency=None, now=T0
        )
        store.mark_delivered("s1", replace(request(1), bridge_votes=1, weighted_votes=4))
        assert store.voted("mobile", "user-9", [1]) == frozenset({1})
        repeat = store.add_vote(Vote("mobile", 1, "user-9", T0))
        assert repeat is not None
        assert repeat[1] is False

    def test_move_votes_unions_voters_once(self, store: IndexStore) -> None:
        store.upsert_request(replace(request(1), bridge_votes=0, weighted_votes=0))
        store.upsert_request(replace(request(2, votes=5), bridge_votes=0, weighted_votes=0))
        for voter in ("a", "b", "c"):
            store.add_vote(Vote("mobile", 1, voter, T0))
        for voter in ("c", "d"):
            store.add_vote(Vote("mobile", 2, voter, T0, weight=2))
        assert store.move_votes("mobile", 1, 2, now=T0) == 2
        duplicate = store.get_request("mobile", 1)
        original = store.get_request("mobile", 2)
        assert duplicate is not None
        assert original is not None
        assert (duplicate.bridge_votes, duplicate.weighted_votes) == (0, 0)
        assert (original.bridge_votes, original.weighted_votes) == (4, 6)
        assert original.github_thumbs_up == 5  # 👍 stay where they are
        assert store.voted("mobile", "a", [1, 2]) == frozenset({2})
        assert store.move_votes("mobile", 1, 2, now=T0) == 0
        assert store.move_votes("mobile", 1, 99, now=T0) == 0
        assert store.move_votes("mobile", 2, 2, now=T0) == 0
        assert store.get_request("mobile", 2).bridge_votes == 4  # type: ignore[union-attr]

    def test_tallies_coalesce_to_one_write_per_interval(self, store: IndexStore) -> None:
        store.upsert_request(request(1))
        assert store.due_tallies(now=T0, limit=10) == []
        store.add_vote(Vote("mobile", 1, "a", T0))
        store.add_vote(Vote("mobile", 1, "b", T0))
        [due] = store.due_tallies(now=T0, limit=10)
        assert (due.app, due.number) == ("mobile", 1)
        store.record_tally("mobile", 1, version=due.version, now=T0)
        assert store.due_tallies(now=T0, limit=10) == []
        store.add_vote(Vote("mobile", 1, "c", T0 + timedelta(seconds=5)))
        assert store.due_tallies(now=T0 + timedelta(seconds=30), limit=10) == []
        [later] = store.due_tallies(now=T0 + TALLY_INTERVAL, limit=10)
        assert later.version > due.version
        store.upsert_request(request(1, votes=3))  # a sync does not lose the pending tally
        assert store.due_tallies(now=T0 + TALLY_INTERVAL, limit=10) == [later]

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

    # ---------------------------------------------------------------- analysis

    def test_analysis_is_kept_on_the_request_and_exported(self, store: IndexStore) -> None:
        store.upsert_request(request(1))
        record = AnalysisRecord(
            model_id="amazon.nova-micro-v1:0",
            analysed_at=T0,
            fields={"category": "ux", "priority": 7, "summary": "Dark mode, «please»."},
        )
        assert store.record_analysis("mobile", 1, record)
        assert not store.record_analysis("mobile", 99, record)
        assert store.get_request("mobile", 99) is None
        stored = store.get_request("mobile", 1)
        assert stored is not None
        assert stored.analysis == record
        assert stored.analysis.category == "ux"
        assert stored.analysis.priority == 7
        [exported] = export_all(store, apps=["mobile"], limit=10)
        assert (exported.category, exported.priority) == ("ux", "7")
        assert exported == export_row(stored)
        [listed] = store.list_requests(ListQuery(app="mobile")).items
        assert listed.analysis == record

    def test_analysis_survives_github_changes(self, store: IndexStore) -> None:
        store.upsert_request(request(1))
        failed = AnalysisRecord(model_id="m", analysed_at=T0, error="free text")
        store.record_analysis("mobile", 1, failed)
        store.upsert_request(replace(request(1), title="Renamed"))
        store.record_github_changes(
            GitHubChanges(synced=[replace(request(1), title="Again", github_thumbs_up=3)]),
            delivery_id="d-analysis",
            now=T0,
        )
        after = store.get_request("mobile", 1)
        assert after is not None
        assert after.title == "Again"
        assert after.analysis == failed
        assert after.analysis.failed
        assert after.analysis.category is None

    def test_counter_adds_up_to_its_limit(self, store: IndexStore) -> None:
        expires = datetime.now(UTC) + timedelta(days=2)
        assert store.read_counter("tokens:2026-11-25") == 0
        assert store.add_to_counter("tokens:2026-11-25", 600, limit=1000, expires_at=expires)
        assert not store.add_to_counter("tokens:2026-11-25", 500, limit=1000, expires_at=expires)
        assert store.add_to_counter("tokens:2026-11-25", 400, limit=1000, expires_at=expires)
        assert store.read_counter("tokens:2026-11-25") == 1000
        # Corrections and unlimited counts always apply.
        assert store.add_to_counter("tokens:2026-11-25", -300, limit=None, expires_at=expires)
        assert store.add_to_counter("tokens:2026-11-25", 5000, limit=None, expires_at=expires)
        assert store.read_counter("tokens:2026-11-25") == 5700
        assert not store.add_to_counter("fresh", 2000, limit=1000, expires_at=expires)
        assert store.read_counter("fresh") == 0
        assert store.read_counter("tokens:2026-11-26") == 0

    def test_concurrent_counter_adds_never_pass_the_limit(self, store: IndexStore) -> None:
        expires = datetime.now(UTC) + timedelta(days=2)
        granted: list[bool] = []
        errors: list[BaseException] = []

        def spend() -> None:
            try:
                granted.append(store.add_to_counter("day", 100, limit=1000, expires_at=expires))
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=spend) for _ in range(25)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert granted.count(True) == 10
        assert store.read_counter("day") == 1000

    # ---------------------------------------------------------------- export scan

    def test_export_visits_every_request_once_in_app_then_number_order(
        self, store: IndexStore
    ) -> None:
        numbers = {"mobile": [5, 1, 23, 12, 2, 8, 17, 3], "web": [9, 4, 1], "zeta": [1, 2]}
        for app, app_numbers in numbers.items():
            for number in app_numbers:
                store.upsert_request(request(number, app=app, votes=number))
        expected = [("mobile", n) for n in sorted(numbers["mobile"])] + [
            ("web", n) for n in sorted(numbers["web"])
        ]
        for limit in (1, 3, 4, 100):
            got = export_all(store, apps=["web", "mobile", "web"], limit=limit)
            assert [(r.app, r.number) for r in got] == expected
        [first] = [r for r in export_all(store, apps=["web"], limit=10) if r.number == 4]
        stored = store.get_request("web", 4)
        assert stored is not None
        assert first == export_row(stored)

    def test_export_rows_are_what_export_row_makes_of_the_request(self, store: IndexStore) -> None:
        # A store may compute rows itself (SQLite does, in SQL); they must match export_row.
        analysed = AnalysisRecord(
            model_id="m", analysed_at=T0, fields={"category": "ux «x»", "priority": 3}
        )
        odd = AnalysisRecord(model_id="m", analysed_at=T0, fields={"category": 5, "priority": "9"})
        failed = AnalysisRecord(model_id="m", analysed_at=T0, error="refused")
        closed = replace(request(2, status=Status.COMPLETED), closed_at=T0 + timedelta(days=1))
        last_century = datetime(1999, 12, 31, 23, 59, 59, 999999, UTC)
        shapes = [
            (replace(request(1), labels=("a, b", "ünï;code", '"q"')), None),
            (closed, analysed),
            (replace(request(3), created_at=last_century), odd),
            (replace(request(4), labels=(), title="=SUM(A1)", github_thumbs_up=4), failed),
        ]
        for item, analysis in shapes:
            store.upsert_request(item)
            if analysis is not None:
                store.record_analysis("mobile", item.number, analysis)
        rows = export_all(store, apps=["mobile"], limit=10)
        for row in rows:
            stored = store.get_request("mobile", row.number)
            assert stored is not None
            assert row == export_row(stored)
        assert [(r.category, r.priority) for r in rows] == [
            (None, None),
            ("ux «x»", "3"),
            (None, None),
            (None, None),
        ]
        assert (rows[1].closed_at, rows[2].created_at) == (
            "2026-11-26T12:00:00Z",
            "1999-12-31T23:59:59Z",
        )
        assert (rows[0].labels, rows[3].labels, rows[3].total_votes) == (
            ("a, b", "ünï;code", '"q"'),
            (),
            5,  # 4 👍 and request()'s 1 vote
        )

    def test_export_filters_by_status_and_updated_since(self, store: IndexStore) -> None:
        for number in range(1, 13):
            status = Status.PLANNED if number % 3 == 0 else Status.OPEN
            at = T0 + timedelta(minutes=number)
            store.upsert_request(replace(request(number, status=status), updated_at=at))
        store.upsert_request(replace(request(1, app="web", status=Status.PLANNED), updated_at=T0))

        def numbers(**filters: object) -> list[int]:
            return [r.number for r in export_all(store, apps=["mobile"], limit=2, **filters)]

        assert numbers(status=Status.PLANNED) == [3, 6, 9, 12]
        assert numbers(status=Status.DECLINED) == []
        since = T0 + timedelta(minutes=7)
        assert numbers(updated_since=since) == [7, 8, 9, 10, 11, 12]  # inclusive
        assert numbers(updated_since=since + timedelta(microseconds=1)) == [8, 9, 10, 11, 12]
        # The same instant in another zone.
        assert numbers(updated_since=since.astimezone(timezone(timedelta(hours=2)))) == [
            7,
            8,
            9,
            10,
            11,
            12,
        ]
        assert numbers(status=Status.PLANNED, updated_since=since) == [9, 12]
        assert numbers(updated_since=T0 + timedelta(days=1)) == []

    def test_export_of_no_apps_or_unknown_apps_is_empty(self, store: IndexStore) -> None:
        store.upsert_request(request(1))
        assert export_all(store, apps=[], limit=10) == []
        assert export_all(store, apps=["nobody"], limit=10) == []

    def test_export_cursor_survives_changes_between_pages(self, store: IndexStore) -> None:
        for number in range(1, 7):
            store.upsert_request(request(number))
        page = store.export_rows(
            apps=["mobile"], status=None, updated_since=None, limit=3, cursor=None
        )
        seen = [r.number for r in page.rows]
        while page.next_cursor is not None and len(seen) < 3:  # a store may return short pages
            page = store.export_rows(
                apps=["mobile"], status=None, updated_since=None, limit=3, cursor=page.next_cursor
            )
            seen.extend(r.number for r in page.rows)
        assert seen == [1, 2, 3]
        assert page.next_cursor is not None
        # The page's last request goes away, one is added behind and one ahead.
        store.record_github_changes(
            GitHubChanges(removed=[("mobile", 3)], synced=[request(0), request(9)]),
            delivery_id=None,
            now=T0,
        )
        rest = export_all(store, apps=["mobile"], limit=2, cursor=page.next_cursor)
        assert [r.number for r in rest] == [4, 5, 6, 9]

    @pytest.mark.parametrize(
        "cursor", ["", "not json", "[1]", '["x", 1]', '{"a": 1}', "[1, 2, 3]", "[5, 3]"]
    )
    def test_export_foreign_cursor_is_refused(self, store: IndexStore, cursor: str) -> None:
        store.upsert_request(request(1))
        with pytest.raises(InvalidCursorError):
            store.export_rows(
                apps=["mobile"], status=None, updated_since=None, limit=10, cursor=cursor
            )

    # ---------------------------------------------------------------- similar

    def test_similar_finds_requests_by_title_best_first(self, store: IndexStore) -> None:
        store.upsert_request(request(1, title="Dark mode for the editor"))
        store.upsert_request(request(2, title="Export notes to PDF"))
        store.upsert_request(request(3, title="Dark mode"))
        found = store.similar("mobile", "dark mode", "", limit=5)
        assert [match.request.number for match in found][:2] in ([3, 1], [1, 3])
        assert 2 not in [match.request.number for match in found]
        assert all(0 < match.score <= 1 for match in found)
        assert [m.score for m in found] == sorted((m.score for m in found), reverse=True)
        assert store.similar("mobile", "dark mode", "", limit=1)[0].request.number in (1, 3)

    def test_similar_stays_within_the_app(self, store: IndexStore) -> None:
        # Two apps on one repo: the same words never cross from one to the other.
        store.upsert_request(request(1, app="mobile", title="Offline mode"))
        store.upsert_request(request(2, app="web", title="Offline mode"))
        assert [m.request.app for m in store.similar("web", "offline mode", "")] == ["web"]
        assert store.similar("other", "offline mode", "") == []

    @pytest.mark.parametrize(
        "title",
        [
            '"dark',
            'dark"mode"',
            "dark*",
            "*",
            "NEAR(dark mode, 2)",
            "dark NEAR mode",
            "-dark",
            "title: dark",
            "dark AND OR NOT mode",
            "^dark + {mode} [x] (y",
            "'; DROP TABLE requests; --",
            "___",
            "!!!",
            "dàrk möde ☾",
            "dark " * 5000,
        ],
    )
    def test_similar_takes_any_text_as_words(self, store: IndexStore, title: str) -> None:
        store.upsert_request(request(1, title="Dark mode"))
        found = store.similar("mobile", title, title, limit=5)
        assert all(match.request.number == 1 for match in found)

    def test_similar_shows_closed_requests_and_a_duplicates_original(
        self, store: IndexStore
    ) -> None:
        store.upsert_request(request(1, title="Calendar sync", status=Status.COMPLETED))
        store.upsert_request(replace(request(2, title="Sync calendar events"), status=Status.OPEN))
        store.upsert_request(
            replace(
                request(3, title="Google calendar sync"), status=Status.DUPLICATE, duplicate_of=2
            )
        )
        found = store.similar("mobile", "google calendar sync", "", limit=5)
        numbers = [match.request.number for match in found]
        assert 3 not in numbers
        assert sorted(numbers) == [1, 2]
        shown = {match.request.number: match.request.status for match in found}
        assert shown[1] is Status.COMPLETED

    def test_similar_follows_renames_and_removals(self, store: IndexStore) -> None:
        store.upsert_request(request(1, title="Dark mode"))
        renamed = replace(request(1, title="Export to PDF"), source=Source.GITHUB)
        store.record_github_changes(GitHubChanges(synced=[renamed]), delivery_id=None, now=T0)
        assert store.similar("mobile", "dark mode", "") == []
        assert [m.request.number for m in store.similar("mobile", "pdf export", "")] == [1]
        store.record_github_changes(
            GitHubChanges(removed=[("mobile", 1)]), delivery_id=None, now=T0
        )
        assert store.similar("mobile", "pdf export", "") == []

    def test_similar_of_a_delivered_submission(self, store: IndexStore) -> None:
        store.create_submission(submission("s1", title="Widget themes"), idempotency=None, now=T0)
        store.mark_delivered("s1", replace(request(4, title="Widget themes"), description="x"))
        assert [m.request.number for m in store.similar("mobile", "themes", "")] == [4]
        assert store.get_request("mobile", 4) == request(4, title="Widget themes")

    def test_described_names_the_requests_whose_description_is_indexed(
        self, store: IndexStore
    ) -> None:
        store.upsert_request(replace(request(1), description="Easier on the eyes"))
        store.upsert_request(replace(request(2), description=""))
        store.upsert_request(request(3))  # a description not read here: None
        store.upsert_request(replace(request(4, app="web"), description="Other app"))
        assert store.described("mobile") == {1}
        assert store.described("web") == {4}
        assert store.described("other") == set()
        store.record_github_changes(
            GitHubChanges(synced=[replace(request(3), description="Backfilled")]),
            delivery_id=None,
            now=T0,
        )
        assert store.described("mobile") == {1, 3}

    def test_description_reads_back_what_the_index_keeps(self, store: IndexStore) -> None:
        store.upsert_request(replace(request(1), description="Easier on the eyes"))
        store.upsert_request(request(2))  # a description not read here: None
        assert store.description("mobile", 1) == "Easier on the eyes"
        assert store.description("mobile", 2) == ""
        assert store.description("mobile", 3) is None
        assert store.description("web", 1) is None
        edited = replace(request(1), description="Night mode", source=Source.GITHUB)
        store.record_github_changes(GitHubChanges(synced=[edited]), delivery_id=None, now=T0)
        assert store.description("mobile", 1) == "Night mode"

    # ---------------------------------------------------------------- forget

    def test_forget_erases_an_address_everywhere_and_keeps_the_votes(
        self, store: IndexStore, stored_text: Callable[[], str]
    ) -> None:
        address = "ada@example.com"  # submission()'s email, with the name "Ada"
        store.create_submission(submission("s1"), idempotency=None, now=T0)
        theirs = replace(request(4, title="Widget themes"), description="Mail ADA@example.com")
        store.mark_delivered("s1", theirs)
        someone = submission("s2")
        someone = replace(
            someone, content=replace(someone.content, email="grace@example.com", name="Grace")
        )
        store.create_submission(someone, idempotency=None, now=T0)
        store.add_vote(Vote("mobile", 4, f"user:{address}", T0))
        store.add_vote(Vote("mobile", 4, "user-2", T0))
        assert address in stored_text().casefold()

        dry = store.forget_person(address, dry_run=True)
        assert (dry.submissions, dry.votes) == (1, 1)
        assert dry.texts >= 1
        assert address in stored_text().casefold()
        assert store.forget_person(address) == dry

        assert address not in stored_text().casefold()
        kept = store.get_submission("s1")
        assert kept is not None
        assert (kept.content.email, kept.content.name) == (None, None)
        assert kept.content.title == "Dark mode"
        other = store.get_submission("s2")
        assert other is not None
        assert (other.content.email, other.content.name) == ("grace@example.com", "Grace")
        counted = store.get_request("mobile", 4)
        assert counted is not None
        assert counted.bridge_votes == 2 + 1  # the two votes, and the submitter's own
        assert store.voted("mobile", anonymised_voter(f"user:{address}"), [4]) == {4}
        assert store.voted("mobile", f"user:{address}", [4]) == frozenset()
        assert store.forget_person(address) == ForgetReport()

    def test_personal_data_past_its_retention_is_dropped(self, store: IndexStore) -> None:
        store.create_submission(submission("old", at=T0), idempotency=None, now=T0)
        later = T0 + timedelta(days=40)
        store.create_submission(submission("new", at=later), idempotency=None, now=later)
        assert store.drop_personal_data(before=T0 + timedelta(days=30)) == 1
        old, new = store.get_submission("old"), store.get_submission("new")
        assert old is not None
        assert new is not None
        assert (old.content.email, old.content.name) == (None, None)
        assert old.content.title == submission("old").content.title
        assert old.content.metadata == submission("old").content.metadata
        assert (new.content.email, new.content.name) == ("ada@example.com", "Ada")
        assert store.drop_personal_data(before=T0 + timedelta(days=30)) == 0


def export_all(
    store: IndexStore,
    *,
    apps: list[str],
    limit: int,
    status: Status | None = None,
    updated_since: datetime | None = None,
    cursor: str | None = None,
) -> list[Row]:
    """Every page of an export; each page within ``limit``, each request once."""
    found: list[Row] = []
    for _ in range(1000):
        page = store.export_rows(
            apps=apps, status=status, updated_since=updated_since, limit=limit, cursor=cursor
        )
        assert len(page.rows) <= limit
        found.extend(page.rows)
        if page.next_cursor is None:
            keys = [(r.app, r.number) for r in found]
            assert len(keys) == len(set(keys))
            return found
        cursor = page.next_cursor
    raise AssertionError("the export never ended")
