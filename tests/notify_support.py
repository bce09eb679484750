"""Helpers of the notification tests: a delivered submission, and the worker's retries."""

from __future__ import annotations

from datetime import timedelta

from bridge.delivery import deliver
from bridge.domain import Source, SubmissionContent
from bridge.jobs import run_job
from bridge.notify.emit import notification_job
from bridge.runtime import Runtime
from bridge.submissions import accept
from tests.fakes import FakeClock

# The submitter every helper's submission names: neither may reach an event.
EMAIL = "ada@example.com"
PERSON = "Ada Lovelace"


def file_request(rt: Runtime, title: str = "Dark mode") -> int:
    """A submission (with its submitter's email and name) delivered as an issue."""
    app = rt.settings.app("mobile")
    assert app is not None
    content = SubmissionContent(title=title, email=EMAIL, name=PERSON)
    submission, _ = accept(
        rt, app, content, source=Source.WIDGET, idempotency_key=None, body_fingerprint=""
    )
    delivered = deliver(rt, submission.id)
    assert delivered is not None
    assert delivered.number is not None
    return delivered.number


def settle(rt: Runtime, clock: FakeClock, *, within: timedelta = timedelta(hours=30)) -> None:
    """Run deliveries as the worker would, jumping the clock to each next due attempt."""
    end = clock() + within
    while clock() < end:
        due = rt.store.due_notifications(now=clock(), limit=100)
        for delivery_id in due:
            run_job(rt, notification_job(delivery_id))
        if due:
            continue
        pending = rt.store.recent_notifications(limit=200, state="pending")
        if not pending:
            return
        wait = min(item.next_attempt_at for item in pending) - clock()
        clock.advance(max(wait.total_seconds(), 0.001))
