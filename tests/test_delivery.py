"""Delivering the outbox to GitHub exactly once, through failures and crashes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from msgspec.structs import replace

from bridge.app import build_runtime
from bridge.delivery import DELIVER_SUBMISSION, deliver, deliver_job, deliver_leased, lease
from bridge.domain import Delivery, Source, Submission, SubmissionContent
from bridge.jobs import run_job, sweep_outbox
from bridge.ports import TrackerError
from bridge.runtime import Runtime
from bridge.settings import Settings
from bridge.stores.sqlite import SQLiteStore
from bridge.submissions import accept
from bridge.tracking import UnconfiguredTracker
from tests.fakes import FakeClock, FakeTracker, RecordingQueue, submit


def test_delivers_once(runtime: Runtime, tracker: FakeTracker) -> None:
    sid = submit(runtime)
    after = deliver(runtime, sid)
    assert after is not None
    assert after.delivery is Delivery.DELIVERED
    assert after.number == 1
    assert deliver(runtime, sid) == after
    assert tracker.creates == 1
    request = runtime.store.get_request("mobile", 1)
    assert request is not None
    assert (request.submission_id, request.bridge_votes, request.status.value) == (sid, 1, "open")


def test_server_error_backs_off_then_delivers_one_issue(
    runtime: Runtime, tracker: FakeTracker, clock: FakeClock
) -> None:
    tracker.fail_next.append(TrackerError("GitHub answered 502"))
    sid = submit(runtime)
    failed = deliver(runtime, sid)
    assert failed is not None
    assert failed.delivery is Delivery.QUEUED
    assert failed.last_error == "GitHub answered 502"
    assert failed.next_attempt_at is not None
    assert failed.next_attempt_at > clock()
    assert sweep_outbox(runtime) == 0  # not due yet
    clock.advance(5)
    assert sweep_outbox(runtime) == 1
    assert runtime.store.get_submission(sid).delivery is Delivery.DELIVERED  # type: ignore[union-attr]
    assert len(tracker.issues["acme/mobile"]) == 1
    assert tracker.lookups == 0  # a definite failure needs no marker lookup


def test_retry_after_is_honoured(runtime: Runtime, tracker: FakeTracker, clock: FakeClock) -> None:
    tracker.fail_next.append(TrackerError("secondary rate limit", retry_after=120))
    sid = submit(runtime)
    failed = deliver(runtime, sid)
    assert failed is not None
    assert failed.next_attempt_at is not None
    assert failed.next_attempt_at >= clock() + timedelta(seconds=120)
    clock.advance(119)
    assert sweep_outbox(runtime) == 0
    assert tracker.creates == 1


def test_lost_answer_adopts_the_issue_instead_of_creating_another(
    runtime: Runtime, tracker: FakeTracker, clock: FakeClock
) -> None:
    tracker.drop_next_answers = 1
    sid = submit(runtime)
    assert deliver(runtime, sid).delivery is Delivery.QUEUED  # type: ignore[union-attr]
    clock.advance(10)
    sweep_outbox(runtime)
    delivered = runtime.store.get_submission(sid)
    assert delivered is not None
    assert delivered.number == 1
    assert len(tracker.issues["acme/mobile"]) == 1
    assert tracker.lookups == 1


def test_crashed_worker_lease_runs_out_and_the_issue_is_adopted(
    runtime: Runtime, tracker: FakeTracker, clock: FakeClock
) -> None:
    sid = submit(runtime)
    # A worker claimed it, created the issue and died before recording anything.
    lease = timedelta(seconds=runtime.settings.server.delivery_lease_seconds)
    claimed = runtime.store.claim_submission(sid, now=clock(), lease_until=clock() + lease)
    assert claimed is not None
    from bridge.tracker_values import IssueDraft
    from github_app.render import submission_marker

    tracker.create_issue(
        IssueDraft(
            "acme/mobile",
            "Dark mode",
            submission_marker("mobile", sid),
            ("fr",),
            submission_marker("mobile", sid),
        )
    )
    assert sweep_outbox(runtime) == 0  # leased: nobody else touches it
    clock.advance(lease.total_seconds() + 1)
    sweep_outbox(runtime)
    assert runtime.store.get_submission(sid).number == 1  # type: ignore[union-attr]
    assert len(tracker.issues["acme/mobile"]) == 1


def test_burst_is_paced_under_the_budget_and_all_delivered(
    make_settings: Callable[..., Settings], tmp_path: Path, clock: FakeClock
) -> None:
    settings = make_settings(
        """
        [server]
        github_writes_per_minute = 5
        github_writes_per_hour = 20
        [[apps]]
        id = "mobile"
        name = "M"
        repo = "acme/mobile"
        labels = ["fr"]
        """
    )
    tracker = FakeTracker(clock)
    created_at: list[float] = []
    original = tracker.create_issue

    def recording(draft):  # type: ignore[no-untyped-def]
        created_at.append(clock().timestamp())
        return original(draft)

    tracker.create_issue = recording  # type: ignore[method-assign]
    runtime = build_runtime(
        settings,
        store=SQLiteStore(tmp_path / "p.db"),
        tracker=tracker,
        queue=RecordingQueue(),
        clock=clock,
    )
    ids = [submit(runtime, f"Request {n}") for n in range(30)]
    for _ in range(1200):
        sweep_outbox(runtime)
        if runtime.store.outbox_stats().pending == 0:
            break
        clock.advance(15)
    assert runtime.store.outbox_stats().pending == 0
    assert len(tracker.issues["acme/mobile"]) == 30
    assert {runtime.store.get_submission(sid).number for sid in ids} == set(range(1, 31))  # type: ignore[union-attr]
    for moment in created_at:
        assert sum(1 for t in created_at if moment - 60 < t <= moment) <= 5
        assert sum(1 for t in created_at if moment - 3600 < t <= moment) <= 20


def test_nothing_happens_without_credentials(runtime: Runtime) -> None:
    offline = build_runtime(
        runtime.settings,
        store=runtime.store,
        tracker=UnconfiguredTracker(),
        queue=RecordingQueue(),
        clock=runtime.clock,
    )
    sid = submit(offline)
    assert sweep_outbox(offline) == 0
    after = deliver(offline, sid)
    assert after is not None
    assert after.attempts == 0


def test_deliver_job_runs_through_the_dispatcher(runtime: Runtime, tracker: FakeTracker) -> None:
    sid = submit(runtime)
    job = deliver_job(sid)
    assert job.kind == DELIVER_SUBMISSION
    run_job(runtime, job)
    assert tracker.creates == 1


def test_unknown_job_kind_is_an_error(runtime: Runtime) -> None:
    import pytest

    from bridge.jobs import UnknownJobError
    from bridge.ports import Job

    with pytest.raises(UnknownJobError):
        run_job(runtime, Job("nope"))


def test_a_failed_attempt_asks_to_come_back_when_due(
    runtime: Runtime, tracker: FakeTracker, clock: FakeClock
) -> None:
    tracker.fail_next.append(TrackerError("secondary rate limit", retry_after=90))
    sid = submit(runtime)
    deliver(runtime, sid)
    assert isinstance(runtime.queue, RecordingQueue)
    assert [job.payload for job in runtime.queue.jobs] == [{"submission_id": sid}]
    assert runtime.queue.delays[0] >= 90


def test_thread_queue_holds_delayed_jobs_until_due() -> None:
    import time

    from bridge.ports import Job
    from bridge.queues import ThreadJobQueue

    queue = ThreadJobQueue()
    ran: list[str] = []
    queue.enqueue(Job("later"), delay_seconds=0.3)
    queue.enqueue(Job("now"))
    assert queue.depth() == 2
    queue.start(lambda job: ran.append(job.kind), lambda: 0, sweep_every=0.05)
    time.sleep(0.15)
    assert ran == ["now"]
    deadline = time.monotonic() + 5
    while ran != ["now", "later"] and time.monotonic() < deadline:
        time.sleep(0.05)
    queue.stop()
    assert ran == ["now", "later"]


def _leased(runtime: Runtime, clock: FakeClock) -> tuple[Submission, datetime]:
    """A submission stored leased for its first attempt, as the API's route stores it."""
    app = runtime.settings.app("mobile")
    assert app is not None
    lease_until = clock() + lease(runtime)
    stored, created = accept(
        runtime,
        app,
        SubmissionContent(title="Dark mode"),
        source=Source.API,
        idempotency_key=None,
        body_fingerprint="",
        lease_until=lease_until,
    )
    assert created
    assert (stored.attempts, stored.outcome_unknown) == (1, False)
    return stored, lease_until


def test_a_leased_submission_is_delivered_without_a_claim(
    runtime: Runtime, tracker: FakeTracker, clock: FakeClock
) -> None:
    leased, lease_until = _leased(runtime, clock)
    after = deliver_leased(runtime, leased, lease_until=lease_until)
    assert after is not None
    assert (after.delivery, after.number, after.attempts) == (Delivery.DELIVERED, 1, 1)
    assert tracker.creates == 1
    assert tracker.lookups == 0


def test_a_leased_submission_gives_its_lease_back_when_github_says_wait(
    runtime: Runtime, tracker: FakeTracker, clock: FakeClock
) -> None:
    waits = iter([42.0, 0.0])
    runtime = replace(runtime, pacer=_Pacer(lambda: next(waits)))
    leased, lease_until = _leased(runtime, clock)
    sid = leased.id
    after = deliver_leased(runtime, leased, lease_until=lease_until)
    assert after is not None
    assert (after.delivery, after.attempts, after.outcome_unknown) == (Delivery.QUEUED, 0, False)
    assert after.next_attempt_at == clock() + timedelta(seconds=42)
    assert tracker.creates == 0
    queue = runtime.queue
    assert isinstance(queue, RecordingQueue)
    assert (queue.jobs, queue.delays) == ([deliver_job(sid)], [42.0])
    # Not before it is due; then the ordinary path delivers it, once and without a lookup.
    assert sweep_outbox(runtime) == 0
    clock.advance(42)
    assert sweep_outbox(runtime) == 1
    assert tracker.creates == 1
    assert tracker.lookups == 0


def test_a_lease_that_ran_out_before_its_attempt_started_is_claimed_again(
    runtime: Runtime, tracker: FakeTracker, clock: FakeClock
) -> None:
    leased, lease_until = _leased(runtime, clock)
    clock.advance(lease(runtime).total_seconds())
    after = deliver_leased(runtime, leased, lease_until=lease_until)
    assert after is not None
    assert (after.delivery, after.attempts) == (Delivery.DELIVERED, 2)
    # The first lease may have been a worker's that died mid-attempt: look before creating.
    assert tracker.lookups == 1
    assert tracker.creates == 1


class _Pacer:
    def __init__(self, wait: Callable[[], float]) -> None:
        self._wait = wait

    def reserve(self, key: str) -> float:
        return self._wait()
