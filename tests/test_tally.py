"""The vote tally on GitHub: one comment per issue, coalesced, never lost."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bridge.app import build_runtime
from bridge.domain import Request, Source, Status, Vote
from bridge.jobs import sweep, write_tallies
from bridge.ports import TrackerError
from bridge.runtime import Runtime
from bridge.settings import Settings
from bridge.stores.sqlite import SQLiteStore
from bridge.sync import sync_all
from bridge.tracker_values import ProjectRef
from github_app.client import GitHubIssueTracker
from github_app.comments import LEGACY_TALLY_MARKER, render_tally, tally_marker
from tests.fakes import FakeClock, FakeTracker, RecordingQueue
from tests.github_double import GitHubDouble


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
    text = render_tally(app_id="mobile", app_name="Acme Mobile", bridge_votes=3, thumbs_up=4)
    assert text.startswith("**7 votes** · 3 from Acme Mobile users, 4 👍 on GitHub")
    assert text.endswith("<!-- featurebridge:tally:mobile -->")
    assert tally_marker("mobile") != tally_marker("web")


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


# --------------------------------------------------------------------------- against the double

SHARED = """
[[apps]]
id = "mobile"
name = "Acme Mobile"
repo = "acme/mobile"
labels = ["feature-request", "app:mobile"]
[apps.project]
owner = "acme"
number = 3

[[apps]]
id = "ios"
name = "Acme iOS"
repo = "acme/mobile"
labels = ["feature-request", "platform:ios"]
[apps.project]
owner = "acme"
number = 3
"""
BOTH = ["feature-request", "app:mobile", "platform:ios"]


@pytest.fixture
def shared(
    make_settings: Callable[..., Settings],
    tmp_path: Path,
    github_tracker: GitHubIssueTracker,
    github_double: GitHubDouble,
) -> Runtime:
    from bridge.timeutil import utcnow

    return build_runtime(
        make_settings(SHARED),
        store=SQLiteStore(tmp_path / "shared.db"),
        tracker=github_tracker,
        queue=RecordingQueue(),
        clock=FakeClock(utcnow()),
    )


def tallies(double: GitHubDouble, number: int) -> list[tuple[str, str]]:
    return [(c["user"]["login"], c["body"]) for c in double.comments("acme/mobile", number)]


def tally_of(double: GitHubDouble, number: int) -> dict[str, str]:
    """Each app's tally comment by the bridge: app id → first line."""
    found = {}
    for login, body in tallies(double, number):
        for app in ("mobile", "ios"):
            if login == "featurebridge[bot]" and body.endswith(tally_marker(app)):
                found[app] = body.splitlines()[0]
    return found


def test_two_apps_sharing_an_issue_each_keep_their_tally_and_the_board_counts_both(
    shared: Runtime, github_double: GitHubDouble
) -> None:
    board = github_double.add_project("acme", 3, status_options=["Todo", "Done"])
    number = github_double.add_issue("acme/mobile", "Dark mode", labels=BOTH, thumbs_up=4)["number"]
    sync_all(shared)
    project = ProjectRef("acme", 3)
    shared.tracker.add_to_board(project, "acme/mobile", number)
    clock: FakeClock = shared.clock  # type: ignore[assignment]
    for app, voter in (("mobile", "a"), ("mobile", "b"), ("ios", "c")):
        shared.store.add_vote(Vote(app, number, voter, clock()))
    write_tallies(shared)
    assert tally_of(github_double, number) == {
        "ios": "**5 votes** · 1 from Acme iOS users, 4 👍 on GitHub",
        "mobile": "**6 votes** · 2 from Acme Mobile users, 4 👍 on GitHub",
    }
    card = github_double.project_item(board, "acme/mobile", number)
    assert card is not None
    assert github_double.item_value(card, "Votes") == 4 + 2 + 1  # 👍 once, every app's votes

    clock.advance(61)
    shared.store.add_vote(Vote("ios", number, "d", clock()))
    write_tallies(shared)
    assert tally_of(github_double, number) == {
        "ios": "**6 votes** · 2 from Acme iOS users, 4 👍 on GitHub",
        "mobile": "**6 votes** · 2 from Acme Mobile users, 4 👍 on GitHub",
    }
    assert github_double.item_value(card, "Votes") == 8


def test_a_tally_written_before_markers_named_apps_is_adopted(
    shared: Runtime, github_double: GitHubDouble
) -> None:
    github_double.add_project("acme", 3, status_options=["Todo", "Done"])
    number = github_double.add_issue("acme/mobile", "Dark mode", labels=BOTH)["number"]
    old = f"**2 votes** · 2 from Acme Mobile users, 0 👍 on GitHub\n\n{LEGACY_TALLY_MARKER}"
    forged = f"**99 votes**\n\n{LEGACY_TALLY_MARKER}"
    github_double.add_comment("acme/mobile", number, forged, user_login="mallory")
    github_double.add_comment("acme/mobile", number, old, user_login="featurebridge[bot]")
    sync_all(shared)
    clock: FakeClock = shared.clock  # type: ignore[assignment]
    shared.store.add_vote(Vote("mobile", number, "a", clock()))
    write_tallies(shared)
    comments = tallies(github_double, number)
    assert len(comments) == 2  # adopted, not left behind beside a new one
    assert comments[0] == ("mallory", forged)
    assert comments[1][0] == "featurebridge[bot]"
    assert comments[1][1].startswith("**1 votes** · 1 from Acme Mobile users")
    assert comments[1][1].endswith(tally_marker("mobile"))
    shared.store.add_vote(Vote("ios", number, "b", clock()))
    write_tallies(shared)
    comments = tallies(github_double, number)
    assert len(comments) == 3
    assert comments[2][1].endswith(tally_marker("ios"))
    assert comments[1][1].endswith(tally_marker("mobile"))
