"""The pipeline half of the index-store contract: sendable submissions and the depths.

Mixed into ``StoreContract`` by each adapter's test module.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from msgspec.structs import replace

from bridge.domain import Hold
from bridge.outbox.states import cancel, dead
from bridge.ports import IndexStore, InvalidCursorError
from tests.store_contract import T0, submission


class OutboxContract:
    """Pending and retrying submissions page by next attempt; every state is counted."""

    def _fail(self, store: IndexStore, sid: str, *, minutes: int) -> None:
        claimed = store.claim_submission(sid, now=T0, lease_until=T0 + timedelta(seconds=30))
        assert claimed is not None
        store.record_failed_attempt(
            sid, error="GitHub answered 502", next_attempt_at=T0 + timedelta(minutes=minutes)
        )

    def test_sendable_ones_page_by_next_attempt_split_by_tries(self, store: IndexStore) -> None:
        for n in range(3):
            store.create_submission(
                submission(f"p{n}", at=T0 + timedelta(seconds=n)), idempotency=None, now=T0
            )
        for sid, minutes in (("r1", 30), ("r2", 10)):
            store.create_submission(submission(sid), idempotency=None, now=T0)
            self._fail(store, sid, minutes=minutes)
        store.create_submission(replace(submission("h1"), hold=Hold.HELD), idempotency=None, now=T0)
        first = store.sendable_submissions(retrying=False, limit=2, cursor=None)
        assert [s.id for s in first.items] == ["p0", "p1"]
        rest = store.sendable_submissions(retrying=False, limit=2, cursor=first.next_cursor)
        assert [s.id for s in rest.items] == ["p2"]
        assert rest.next_cursor is None
        retrying = store.sendable_submissions(retrying=True, limit=5, cursor=None)
        assert [s.id for s in retrying.items] == ["r2", "r1"]
        assert retrying.items[0].last_error == "GitHub answered 502"
        with pytest.raises(InvalidCursorError):
            store.sendable_submissions(retrying=True, limit=5, cursor='["held", "x", "y"]')

    def test_depths_count_every_state(self, store: IndexStore) -> None:
        store.create_submission(submission("p1"), idempotency=None, now=T0)
        store.create_submission(submission("r1"), idempotency=None, now=T0)
        self._fail(store, "r1", minutes=5)
        store.create_submission(submission("d1"), idempotency=None, now=T0)
        self._fail(store, "d1", minutes=5)
        store.change_hold("d1", dead)
        store.create_submission(submission("c1", app="web"), idempotency=None, now=T0)
        store.change_hold("c1", cancel(at=T0, by="api", reason=None))
        store.create_submission(replace(submission("h1"), hold=Hold.HELD), idempotency=None, now=T0)
        assert store.outbox_depths(["mobile", "web"]) == {
            "pending": 1,
            "retrying": 1,
            "held": 1,
            "rejected": 0,
            "dead": 1,
            "cancelled": 1,
        }
        dead_ones = store.held_submissions("mobile", Hold.DEAD, limit=5, cursor=None).items
        assert [(s.id, s.last_error, s.attempts) for s in dead_ones] == [
            ("d1", "GitHub answered 502", 1)
        ]
        assert store.due_submissions(now=T0 + timedelta(days=1), limit=10) != []
        assert {s.id for s in store.due_submissions(now=T0 + timedelta(days=1), limit=10)} == {
            "p1",
            "r1",
        }
