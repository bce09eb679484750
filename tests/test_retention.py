"""``retain_personal_days``: the job, and when the Lambda schedule runs it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bridge.app import build_runtime
from bridge.domain import Source, Submission, SubmissionContent
from bridge.jobs import run_job
from bridge.notify.email.model import Subscriber, request_topic
from bridge.privacy.retention import due_on_schedule, retention_job
from bridge.settings import Settings
from bridge.stores.sqlite import SQLiteStore
from tests.conftest import CONFIG
from tests.fakes import FakeClock, FakeTracker, RecordingQueue


def _submission(sid: str, at: datetime) -> Submission:
    content = SubmissionContent(title="Dark mode", email="zoe@example.com", name="Zoe")
    return Submission(id=sid, app="mobile", source=Source.FORM, content=content, created_at=at)


@pytest.mark.parametrize(("days", "dropped"), [("30", True), (None, False)])
def test_the_job_drops_what_is_older_than_the_retention(
    make_settings: Callable[..., Settings],
    tmp_path: Path,
    clock: FakeClock,
    days: str | None,
    dropped: bool,
) -> None:
    config = CONFIG.replace(
        "[server]\n", f"[server]\nretain_personal_days = {days}\n" if days else "[server]\n", 1
    )
    store = SQLiteStore(tmp_path / "r.db")
    rt = build_runtime(
        make_settings(config),
        store=store,
        tracker=FakeTracker(clock),
        queue=RecordingQueue(),
        clock=clock,
    )
    for sid, age in (("old", 31), ("new", 29)):
        made = _submission(sid, clock() - timedelta(days=age))
        store.create_submission(made, idempotency=None, now=clock())
    subscribed = [
        store.subscribe(
            Subscriber(
                id=f"{n:032x}",
                app="mobile",
                address=address,
                confirmed=True,
                created_at=clock() - timedelta(days=400),
            ),
            topic=request_topic(1),
            voter=f"user:{n}",
        )[0]
        for n, address in enumerate(("zoe@example.com", "yan@example.com"))
    ]
    store.unsubscribe(subscribed[1].id)
    run_job(rt, retention_job())
    old, new = store.get_submission("old"), store.get_submission("new")
    assert old is not None
    assert new is not None
    assert (old.content.email is None) is dropped
    assert new.content.email == "zoe@example.com"
    # A live subscription keeps its address however old; an ended one goes with the rest.
    assert store.get_subscriber(subscribed[0].id) == subscribed[0]
    assert (store.get_subscriber(subscribed[1].id) is None) is dropped


@pytest.mark.parametrize(
    ("hour", "minute", "due"),
    [(0, 0, True), (0, 14, True), (0, 15, False), (1, 5, False), (23, 59, False)],
)
def test_the_schedule_runs_it_at_the_days_first_tick(hour: int, minute: int, due: bool) -> None:
    now = datetime(2026, 12, 3, hour, minute, tzinfo=UTC)
    assert due_on_schedule(now, interval_minutes=15) is due
