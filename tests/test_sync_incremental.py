"""Incremental syncs between full passes, against the GitHub double, on both stores.

The double's clock is the runtime's, so ``updated_at`` and the sync marks move
together; a 👍 (``set_reactions``) does not touch ``updated_at``, as on GitHub.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bridge.app import build_runtime
from bridge.domain import Status
from bridge.jobs import run_job, scheduled_sync_job, sync_job
from bridge.ports import IndexStore, SyncMarks, TrackerError
from bridge.runtime import Runtime
from bridge.settings import ServerSettings, Settings
from bridge.stores.dynamodb import DynamoDBStore
from bridge.stores.sqlite import SQLiteStore
from bridge.sync import SINCE_MARGIN, due_full, sync_all
from github_app.client import GitHubIssueTracker
from tests.fakes import FakeClock, RecordingQueue
from tests.github_double import GitHubDouble
from tests.github_double.faults import Fault

LABELS = ["feature-request", "app:mobile"]
REPO = "acme/mobile"
START = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
INTERVAL = 15 * 60  # seconds between scheduled syncs (the default)


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[IndexStore]:
    if request.param == "sqlite":
        yield SQLiteStore(tmp_path / "sync.db")
        return
    client = request.getfixturevalue("dynamodb_client")
    table = request.getfixturevalue("dynamodb_table")
    yield DynamoDBStore(table, client=client)


@pytest.fixture
def clock(github_double: GitHubDouble) -> FakeClock:
    clock = FakeClock(START)
    github_double.world.now = lambda: clock().replace(microsecond=0)
    return clock


@pytest.fixture
def rt(
    make_settings: Callable[..., Settings],
    store: IndexStore,
    github_tracker: GitHubIssueTracker,
    clock: FakeClock,
) -> Runtime:
    return build_runtime(
        make_settings(), store=store, tracker=github_tracker, queue=RecordingQueue(), clock=clock
    )


def issue_reads(double: GitHubDouble, since: int) -> list[dict[str, str]]:
    """Query strings of the issue listings the double answered after call ``since``."""
    return [
        call.query
        for call in double.calls[since:]
        if call.method == "GET" and call.path == f"/repos/{REPO}/issues"
    ]


def scheduled(rt: Runtime, clock: FakeClock) -> None:
    """One tick of the schedule, ``INTERVAL`` after the last."""
    clock.advance(INTERVAL)
    run_job(rt, scheduled_sync_job())


def test_between_full_passes_the_schedule_reads_only_what_github_updated(
    rt: Runtime, github_double: GitHubDouble, clock: FakeClock
) -> None:
    for n in range(250):
        github_double.add_issue(REPO, f"Request {n}", labels=LABELS)
    scheduled(rt, clock)  # no marks yet: a full pass, 3 pages
    assert rt.store.sync_marks("mobile") == SyncMarks(since=clock(), full_at=clock())
    first = clock()
    clock.advance(60)
    github_double.close_issue(REPO, 7, state_reason="not_planned")  # its webhook was lost
    before = len(github_double.calls)
    scheduled(rt, clock)
    [query] = issue_reads(github_double, before)
    assert query["since"] == (first - SINCE_MARGIN).strftime("%Y-%m-%dT%H:%M:%SZ")
    closed = rt.store.get_request("mobile", 7)
    assert closed is not None
    assert closed.status is Status.DECLINED
    assert rt.store.sync_marks("mobile") == SyncMarks(since=clock(), full_at=first)


def test_a_thumbs_up_waits_for_the_next_full_pass_and_no_longer(
    rt: Runtime, github_double: GitHubDouble, clock: FakeClock
) -> None:
    issue = github_double.add_issue(REPO, "Dark mode", labels=LABELS)
    scheduled(rt, clock)
    full_at = clock()
    github_double.set_reactions(REPO, issue["number"], {"+1": 4})
    server = rt.settings.server
    ticks = server.full_sync_interval_minutes // server.sync_interval_minutes
    for _ in range(ticks - 1):
        scheduled(rt, clock)
        indexed = rt.store.get_request("mobile", issue["number"])
        assert indexed is not None
        assert indexed.github_thumbs_up == 0  # incremental: GitHub did not update the issue
    scheduled(rt, clock)  # full_sync_interval_minutes after the last full pass
    assert clock() - full_at == timedelta(minutes=server.full_sync_interval_minutes)
    indexed = rt.store.get_request("mobile", issue["number"])
    assert indexed is not None
    assert indexed.github_thumbs_up == 4
    assert rt.store.sync_marks("mobile").full_at == clock()


def test_any_update_brings_the_thumbs_up_with_it(
    rt: Runtime, github_double: GitHubDouble, clock: FakeClock
) -> None:
    issue = github_double.add_issue(REPO, "Dark mode", labels=LABELS)
    scheduled(rt, clock)
    github_double.set_reactions(REPO, issue["number"], {"+1": 3})
    clock.advance(30)
    github_double.add_comment(REPO, issue["number"], "Me too")
    github_double.update_issue(REPO, issue["number"], title="Dark mode everywhere")
    scheduled(rt, clock)
    indexed = rt.store.get_request("mobile", issue["number"])
    assert indexed is not None
    assert (indexed.title, indexed.github_thumbs_up) == ("Dark mode everywhere", 3)


def test_an_issue_that_left_unseen_is_dropped_by_the_full_pass(
    rt: Runtime, github_double: GitHubDouble, clock: FakeClock
) -> None:
    issue = github_double.add_issue(REPO, "Dark mode", labels=LABELS)
    born = github_double.add_issue(REPO, "Offline", labels=[])
    scheduled(rt, clock)
    clock.advance(60)
    github_double.update_issue(REPO, issue["number"], labels=["feature-request"])
    github_double.update_issue(REPO, born["number"], labels=LABELS)  # joins the app
    scheduled(rt, clock)
    assert rt.store.get_request("mobile", born["number"]) is not None
    assert rt.store.get_request("mobile", issue["number"]) is not None  # not asked for
    run_job(rt, sync_job())  # POST /v1/sync and featurebridge sync: a full pass
    assert rt.store.get_request("mobile", issue["number"]) is None


def test_a_dry_run_and_a_failed_pass_leave_the_marks(
    rt: Runtime, github_double: GitHubDouble, clock: FakeClock
) -> None:
    github_double.add_issue(REPO, "Dark mode", labels=LABELS)
    sync_all(rt, dry_run=True)
    assert rt.store.sync_marks("mobile") == SyncMarks()
    scheduled(rt, clock)
    marks = rt.store.sync_marks("mobile")
    github_double.faults.add(
        Fault(method="GET", path="/repos/{owner}/{repo}/issues", kind="server_error", times=None)
    )
    with pytest.raises(TrackerError):
        scheduled(rt, clock)
    assert rt.store.sync_marks("mobile") == marks


@pytest.mark.parametrize(
    ("minutes_since_full", "expected"),
    [(0, False), (352, False), (353, True), (360, True), (1000, True)],
)
def test_a_full_pass_is_due_half_an_interval_early_at_most(
    minutes_since_full: int, expected: bool
) -> None:
    server = ServerSettings(sync_interval_minutes=15, full_sync_interval_minutes=360)
    marks = SyncMarks(since=START, full_at=START)
    now = START + timedelta(minutes=minutes_since_full)
    assert due_full(marks, now, server) is expected


def test_without_marks_or_a_longer_full_interval_every_pass_is_full() -> None:
    server = ServerSettings()
    assert due_full(SyncMarks(), START, server)
    assert due_full(SyncMarks(since=START), START, server)
    always = ServerSettings(sync_interval_minutes=30, full_sync_interval_minutes=30)
    assert due_full(SyncMarks(since=START, full_at=START), START, always)


def test_full_sync_interval_may_not_be_shorter_than_the_sync_interval(
    make_settings: Callable[..., Settings],
) -> None:
    from tests.conftest import CONFIG

    config = CONFIG.replace(
        "[server]", "[server]\nsync_interval_minutes = 30\nfull_sync_interval_minutes = 20", 1
    )
    with pytest.raises(Exception, match="full_sync_interval_minutes"):
        make_settings(config)
