"""The vote tally on GitHub: one comment per issue, coalesced, never lost."""

from __future__ import annotations

from bridge.domain import Request, Source, Status, Vote
from bridge.jobs import sweep, write_tallies
from bridge.ports import TrackerError
from bridge.runtime import Runtime
from github_app.comments import TALLY_MARKER, render_tally
from tests.fakes import FakeClock, FakeTracker


def seed(runtime: Runtime, clock: FakeClock, number: int = 1) -> None:
    runtime.store.upsert_request(
        Request(
            app="mobile",
            number=number,
            title="Dark mode",
            status=Status.OPEN,
            url=f"https://github.com/acme/mobile/issues/{number}",
            labels=(),
            source=Source.GITHUB,
            created_at=clock(),
            updated_at=clock(),
            github_thumbs_up=4,
        )
    )


def vote(runtime: Runtime, clock: FakeClock, voter: str, number: int = 1) -> None:
    runtime.store.add_vote(Vote("mobile", number, voter, clock()))


def comment(tracker: FakeTracker, number: int = 1) -> str | None:
    bodies = list(tracker.comments.get(("acme/mobile", number), {}).values())
    assert len(bodies) <= 1
    return bodies[0] if bodies else None


def test_tally_text() -> None:
    text = render_tally(app_name="Acme Mobile", bridge_votes=3, thumbs_up=4)
    assert text.startswith("**7 votes** · 3 from Acme Mobile users, 4 👍 on GitHub")
    assert text.endswith(TALLY_MARKER)


def test_a_burst_of_votes_is_one_write_per_minute(
    runtime: Runtime, tracker: FakeTracker, clock: FakeClock
) -> None:
    seed(runtime, clock)
    for n in range(10):
        vote(runtime, clock, f"user-{n}")
    sweep(runtime)
    assert tracker.comment_writes == 1
    assert "**14 votes** · 10 from" in (comment(tracker) or "")
    for n in range(10, 15):
        clock.advance(5)
        vote(runtime, clock, f"user-{n}")
        sweep(runtime)
    assert tracker.comment_writes == 1  # coalesced: the minute is not over
    clock.advance(60)
    sweep(runtime)
    assert tracker.comment_writes == 2
    assert "**19 votes** · 15 from" in (comment(tracker) or "")
    clock.advance(600)
    sweep(runtime)
    assert tracker.comment_writes == 2  # nothing new: nothing written


def test_issue_without_bridge_votes_gets_no_tally(
    runtime: Runtime, tracker: FakeTracker, clock: FakeClock
) -> None:
    seed(runtime, clock)
    vote(runtime, clock, "user-1")
    runtime.store.remove_vote("mobile", 1, "user-1", now=clock())
    write_tallies(runtime)
    assert comment(tracker) is None


def test_tally_follows_votes_down_to_zero_once_written(
    runtime: Runtime, tracker: FakeTracker, clock: FakeClock
) -> None:
    seed(runtime, clock)
    vote(runtime, clock, "user-1")
    write_tallies(runtime)
    runtime.store.remove_vote("mobile", 1, "user-1", now=clock())
    clock.advance(61)
    write_tallies(runtime)
    assert "**4 votes** · 0 from" in (comment(tracker) or "")


def test_github_failure_is_retried_later_and_nothing_is_lost(
    runtime: Runtime, tracker: FakeTracker, clock: FakeClock
) -> None:
    seed(runtime, clock)
    vote(runtime, clock, "user-1")

    def failing(*args: object, **kwargs: object) -> int:
        raise TrackerError("GitHub answered 502")

    original = tracker.upsert_comment
    tracker.upsert_comment = failing  # type: ignore[assignment,method-assign]
    write_tallies(runtime)
    assert runtime.store.due_tallies(now=clock(), limit=5) == []  # backing off, not hammering
    tracker.upsert_comment = original  # type: ignore[method-assign]
    clock.advance(61)
    write_tallies(runtime)
    assert "**5 votes** · 1 from" in (comment(tracker) or "")
