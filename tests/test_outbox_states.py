"""A submission's place in the pipeline, and what retry and cancel do: pure rules."""

from __future__ import annotations

import pytest
from msgspec.structs import replace

from bridge.domain import ActionRefusedError, Delivery, Hold, OperatorAction
from bridge.outbox.states import cancel, dead, retry, state_of
from tests.store_contract import T0, submission

FRESH = submission("s1")


def test_states_follow_delivery_hold_and_attempts() -> None:
    assert state_of(FRESH) == "pending"
    assert state_of(replace(FRESH, attempts=2, last_error="502")) == "retrying"
    for hold in Hold:
        assert state_of(replace(FRESH, hold=hold)) == hold.value
    assert state_of(replace(FRESH, delivery=Delivery.DELIVERED, number=7)) == "delivered"


def test_dead_gives_up_only_on_what_may_be_sent() -> None:
    assert dead(replace(FRESH, attempts=5)) == replace(FRESH, attempts=5, hold=Hold.DEAD)
    assert dead(replace(FRESH, hold=Hold.HELD)) is None
    assert dead(replace(FRESH, delivery=Delivery.DELIVERED)) is None


def test_retry_makes_a_dead_or_backing_off_delivery_due_now() -> None:
    for before in (replace(FRESH, hold=Hold.DEAD, attempts=9), replace(FRESH, attempts=3)):
        after = retry(at=T0, by="api")(before)
        assert after is not None
        assert after.hold is None
        assert after.next_attempt_at == T0
        assert [(d.action, d.by) for d in after.decisions] == [(OperatorAction.RETRY, "api")]
    assert retry(at=T0, by="api")(replace(FRESH, delivery=Delivery.DELIVERED)) is None


@pytest.mark.parametrize("hold", [Hold.HELD, Hold.REJECTED, Hold.CANCELLED])
def test_retry_refuses_what_moderation_or_an_operator_held_back(hold: Hold) -> None:
    with pytest.raises(ActionRefusedError):
        retry(at=T0, by="api")(replace(FRESH, hold=hold))


@pytest.mark.parametrize("hold", [None, Hold.HELD, Hold.DEAD])
def test_cancel_keeps_what_never_reached_github(hold: Hold | None) -> None:
    after = cancel(at=T0, by="cli", reason="duplicate")(replace(FRESH, hold=hold))
    assert after is not None
    assert after.hold is Hold.CANCELLED
    assert after.decisions[-1].reason == "duplicate"
    assert cancel(at=T0, by="cli", reason=None)(after) is None  # a repeat


def test_cancel_refuses_what_is_or_may_be_on_github() -> None:
    with pytest.raises(ActionRefusedError, match="on GitHub"):
        cancel(at=T0, by="api", reason=None)(replace(FRESH, delivery=Delivery.DELIVERED))
    with pytest.raises(ActionRefusedError, match="may have created"):
        cancel(at=T0, by="api", reason=None)(replace(FRESH, attempts=1, outcome_unknown=True))
