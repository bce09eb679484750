"""The end every submission route shares: accept into the index, try GitHub, answer.

The API submission and the Google Forms post differ in how they read and check a
body; from validated content on, they take this one path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from flask import Response, jsonify, url_for

from bridge.api.access import inline_delivery, rate_limited, runtime
from bridge.api.errors import ApiError
from bridge.domain import Delivery, Source, Status, Submission, SubmissionContent
from bridge.ports import IdempotencyConflictError, RateHit, RateLimitedError
from bridge.settings import AppConfig

if TYPE_CHECKING:
    from bridge.moderation.screening import BrowserProof, Screening
    from bridge.voters import Voter

# How long a client is asked to wait while its app's queue to GitHub is full.
QUEUE_FULL_RETRY_SECONDS = 60


def accept_and_answer(
    app: AppConfig,
    content: SubmissionContent,
    *,
    source: Source,
    voter: Voter | None,
    idempotency_key: str | None,
    body_fingerprint: str,
    key_name: str,
    accepted: Callable[[Submission], None] | None = None,
    client: str | None,
    browser: BrowserProof | None = None,
    rate: RateHit | None = None,
) -> tuple[Response, int]:
    """Screen the submission, commit it, deliver it inline when it is new and not held,
    answer 201 or 202.

    ``key_name`` names where the idempotency key came from, for the 409 of a key
    reused with another body; ``accepted`` is called with the committed submission
    (new or repeated) before it is delivered. ``client`` is who sent it (None for signed
    server-to-server posts, which are not checked for repeats); ``browser`` what the
    widget or the form sent to show a person filled it in. ``rate`` is the caller's
    submission budget, counted in the same write that stores the submission (429 when
    spent).

    A submission that can go to GitHub now is stored leased to this process, so
    that the usual path is two index writes: the submission, then delivered and
    indexed.
    """
    from bridge.delivery import deliver_job, lease
    from bridge.submissions import accept

    rt = runtime()
    screening = _screen(app, content, client=client, browser=browser)
    hold = screening.hold if screening else None
    if hold is None and rt.store.queue_is_full(app.id, rt.settings.server.max_queued_per_app):
        raise ApiError(
            "rate_limited",
            f"app {app.id!r} has too many requests waiting for GitHub; "
            f"try again in {QUEUE_FULL_RETRY_SECONDS} s",
            headers={"Retry-After": str(QUEUE_FULL_RETRY_SECONDS)},
        )
    timeout = rt.settings.server.inline_delivery_seconds
    lease_until = None
    if hold is None and timeout > 0 and rt.tracker.health().configured:
        lease_until = rt.clock() + lease(rt)
    try:
        submission, created = accept(
            rt,
            app,
            content,
            source=source,
            voter=voter,
            idempotency_key=idempotency_key,
            body_fingerprint=body_fingerprint,
            hold=hold,
            signals=screening.signals if screening else (),
            rate=rate,
            repeat=screening.repeat if screening else None,
            lease_until=lease_until,
        )
    except IdempotencyConflictError as error:
        raise ApiError(
            "conflict",
            f"{key_name} was already used with a different body",
            fields={key_name: f"used for submission {error.submission_id}"},
        ) from error
    except RateLimitedError as error:
        raise rate_limited(
            "submission", window_seconds=error.hit.window_seconds, now=rt.clock()
        ) from error
    if accepted is not None:
        accepted(submission)
    if created and submission.may_be_sent:
        if lease_until is not None:
            submission = (
                inline_delivery().attempt(submission, lease_until=lease_until, timeout=timeout)
                or submission
            )
        if submission.delivery is not Delivery.DELIVERED:
            rt.queue.enqueue(deliver_job(submission.id))
    return submission_answer(app, submission)


def _screen(
    app: AppConfig,
    content: SubmissionContent,
    *,
    client: str | None,
    browser: BrowserProof | None,
) -> Screening | None:
    """The app's moderation of one submission; None when the app screens nothing."""
    if app.moderation == "none":
        return None
    from bridge.moderation.screening import screen

    return screen(
        runtime(),
        app,
        title=content.title,
        description=content.description,
        email=content.email,
        client=client,
        browser=browser,
    )


def submission_answer(app: AppConfig, submission: Submission) -> tuple[Response, int]:
    """201 with the issue when the submission is on GitHub, else 202 queued or held."""
    from bridge.api.write_models import SubmissionOut

    if submission.number is None:
        body = SubmissionOut(id=submission.id, status=Status.OPEN, delivery=submission.standing)
        return jsonify(body.model_dump(mode="json", exclude_none=True)), 202
    indexed = runtime().store.get_request(app.id, submission.number)
    body = SubmissionOut(
        id=submission.id,
        status=indexed.status if indexed else Status.OPEN,
        delivery=Delivery.DELIVERED,
        number=submission.number,
        url=submission.url,
    )
    response = jsonify(body.model_dump(mode="json", exclude_none=True))
    response.headers["Location"] = url_for(
        "requests.show_request", app_id=app.id, number=submission.number
    )
    return response, 201
