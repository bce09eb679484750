"""The moderation half of the index-store contract: held submissions and their review.

Mixed into ``StoreContract`` by each adapter's test module.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from msgspec.structs import replace

from bridge.domain import ActionRefusedError, Decision, Delivery, Hold, OperatorAction, Submission
from bridge.moderation.review import decide
from bridge.ports import IndexStore, InvalidCursorError
from tests.store_contract import T0, request, submission


def held(sid: str, *, app: str = "mobile", minutes: int = 0) -> Submission:
    return replace(
        submission(sid, app=app, at=T0 + timedelta(minutes=minutes)),
        hold=Hold.HELD,
        signals=("honeypot", "too_fast"),
    )


APPROVE = decide(OperatorAction.APPROVE, at=T0 + timedelta(hours=1), by="api", reason=None)
REJECT = decide(OperatorAction.REJECT, at=T0 + timedelta(hours=1), by="cli", reason="casino spam")


class ReviewContract:
    """Held submissions are kept, listed for review, never sent until approved."""

    def test_a_held_submission_keeps_its_signals_and_is_never_due(self, store: IndexStore) -> None:
        store.create_submission(held("h1"), idempotency=None, now=T0)
        stored = store.get_submission("h1")
        assert stored is not None
        assert stored.hold is Hold.HELD
        assert stored.signals == ("honeypot", "too_fast")
        assert stored.standing is Delivery.HELD
        later = T0 + timedelta(days=1)
        assert store.due_submissions(now=later, limit=10) == []
        assert store.claim_submission("h1", now=later, lease_until=later) is None
        assert store.outbox_stats().pending == 0

    def test_held_ones_are_listed_per_app_oldest_first_a_page_at_a_time(
        self, store: IndexStore
    ) -> None:
        for n, minutes in enumerate((30, 10, 20)):
            store.create_submission(held(f"h{n}", minutes=minutes), idempotency=None, now=T0)
        store.create_submission(held("other", app="web"), idempotency=None, now=T0)
        store.create_submission(submission("sendable"), idempotency=None, now=T0)
        first = store.held_submissions("mobile", Hold.HELD, limit=2, cursor=None)
        assert [s.id for s in first.items] == ["h1", "h2"]
        assert first.next_cursor is not None
        rest = store.held_submissions("mobile", Hold.HELD, limit=2, cursor=first.next_cursor)
        assert [s.id for s in rest.items] == ["h0"]
        assert rest.next_cursor is None
        assert store.held_submissions("mobile", Hold.REJECTED, limit=5, cursor=None).items == []
        with pytest.raises(InvalidCursorError):
            store.held_submissions("mobile", Hold.HELD, limit=2, cursor='["nope"]')

    def test_approval_makes_it_due_now_and_records_the_decision(self, store: IndexStore) -> None:
        store.create_submission(held("h1"), idempotency=None, now=T0)
        after = store.change_hold("h1", APPROVE)
        assert after is not None
        assert after.hold is None
        assert after.signals == ("honeypot", "too_fast")
        assert after.decisions == (
            Decision(OperatorAction.APPROVE, T0 + timedelta(hours=1), "api", None),
        )
        assert store.held_submissions("mobile", Hold.HELD, limit=5, cursor=None).items == []
        assert [s.id for s in store.due_submissions(now=T0 + timedelta(hours=1), limit=5)] == ["h1"]
        assert store.outbox_stats().pending == 1
        # A repeat changes nothing.
        assert store.change_hold("h1", APPROVE) == after

    def test_rejection_keeps_it_marked_and_unsent(self, store: IndexStore) -> None:
        store.create_submission(held("h1"), idempotency=None, now=T0)
        rejected = store.change_hold("h1", REJECT)
        assert rejected is not None
        assert rejected.hold is Hold.REJECTED
        assert rejected.decisions[0].reason == "casino spam"
        assert rejected.decisions[0].by == "cli"
        listed = store.held_submissions("mobile", Hold.REJECTED, limit=5, cursor=None).items
        assert [s.id for s in listed] == ["h1"]
        assert store.due_submissions(now=T0 + timedelta(days=2), limit=5) == []
        assert store.change_hold("h1", REJECT) == rejected
        # Operators may change their mind: approving a rejected one sends it.
        approved = store.change_hold("h1", APPROVE)
        assert approved is not None
        assert approved.hold is None
        assert [d.action for d in approved.decisions] == [
            OperatorAction.REJECT,
            OperatorAction.APPROVE,
        ]

    def test_a_sendable_or_delivered_submission_is_not_reviewable(self, store: IndexStore) -> None:
        store.create_submission(submission("s1"), idempotency=None, now=T0)
        with pytest.raises(ActionRefusedError):
            store.change_hold("s1", REJECT)
        with pytest.raises(ActionRefusedError):
            store.change_hold("s1", APPROVE)
        store.create_submission(held("h1"), idempotency=None, now=T0)
        store.change_hold("h1", APPROVE)
        store.mark_delivered("h1", replace(request(1), submission_id="h1"))
        with pytest.raises(ActionRefusedError):
            store.change_hold("h1", REJECT)
        assert store.change_hold("nobody", APPROVE) is None

    def test_racing_reviews_apply_one_decision(self, store: IndexStore) -> None:
        store.create_submission(held("h1"), idempotency=None, now=T0)
        barrier = threading.Barrier(4)
        errors: list[BaseException] = []

        def review() -> None:
            barrier.wait()
            try:
                store.change_hold("h1", APPROVE)
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=review) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        stored = store.get_submission("h1")
        assert stored is not None
        assert len(stored.decisions) == 1

    def test_the_queue_cap_counts_an_apps_sendable_backlog_only(self, store: IndexStore) -> None:
        for n in range(3):
            store.create_submission(submission(f"m{n}"), idempotency=None, now=T0)
        store.create_submission(submission("w1", app="web"), idempotency=None, now=T0)
        store.create_submission(held("h1"), idempotency=None, now=T0)
        assert store.queue_is_full("mobile", 3)
        assert not store.queue_is_full("mobile", 4)
        assert not store.queue_is_full("web", 2)
        store.mark_delivered("m0", replace(request(1), submission_id="m0"))
        assert not store.queue_is_full("mobile", 3)
