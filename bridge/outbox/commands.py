"""``featurebridge outbox [--state S] [retry|cancel ID]``: the pipeline from a terminal."""

from __future__ import annotations

import sys
from typing import TextIO

from bridge.commands import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE
from bridge.domain import ActionRefusedError, Submission, UnknownSubmissionError
from bridge.outbox.states import OutboxState, state_of
from bridge.settings import Settings
from bridge.timeutil import to_iso


def line(submission: Submission) -> str:
    """One submission: id, app, state, attempts, next attempt, last error (never the person)."""
    state = state_of(submission)
    text = f"{submission.id}  {submission.app}  {state:<9}  attempts={submission.attempts}"
    if state in ("pending", "retrying") and submission.next_attempt_at is not None:
        text += f"  next={to_iso(submission.next_attempt_at)}"
    if submission.last_error:
        text += f"  error: {submission.last_error}"
    return text


def run_outbox(
    settings: Settings,
    *,
    action: str,
    submission_id: str | None,
    state: OutboxState,
    app_id: str | None,
    limit: int,
    reason: str | None,
    out: TextIO,
) -> int:
    """List one state of the pipeline, or retry or cancel one submission."""
    from bridge.app import build_runtime
    from bridge.outbox.actions import act
    from bridge.outbox.listing import outbox_page

    if app_id is not None and settings.app(app_id) is None:
        print(f"featurebridge: no app {app_id!r} in the configuration", file=sys.stderr)
        return EXIT_USAGE
    runtime = build_runtime(settings)
    if action == "list":
        if submission_id is not None:
            print("featurebridge: outbox list takes no id", file=sys.stderr)
            return EXIT_USAGE
        apps = [app.id for app in settings.apps if app_id in (None, app.id)]
        page = outbox_page(runtime.store, state, apps=apps, limit=limit, cursor=None)
        found = [line(s) for s in page.items if app_id in (None, s.app)]
        print("\n".join(found) if found else f"no {state} submissions", file=out)
        if page.next_cursor is not None:
            print(f"(the first {limit}; --limit shows more)", file=out)
        return EXIT_OK
    if submission_id is None:
        print(f"featurebridge: outbox {action} needs a submission id", file=sys.stderr)
        return EXIT_USAGE
    try:
        after = act(runtime, submission_id, action, by="cli", reason=reason)
    except UnknownSubmissionError:
        print(f"{submission_id}: no such submission", file=out)
        return EXIT_PROBLEMS
    except ActionRefusedError as error:
        print(f"{submission_id}: {error}", file=out)
        return EXIT_PROBLEMS
    if action == "retry" and state_of(after) == "pending":
        print(f"{line(after)}  (delivered by the service's next outbox sweep)", file=out)
    else:
        print(line(after), file=out)
    return EXIT_OK
