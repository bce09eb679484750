"""``featurebridge moderate list|approve|reject``: the review queue from a terminal."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from typing import TextIO

from bridge.commands import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE
from bridge.domain import (
    ActionRefusedError,
    Hold,
    OperatorAction,
    Submission,
    UnknownSubmissionError,
)
from bridge.moderation.decisions import apply_decision
from bridge.runtime import Runtime
from bridge.settings import Settings
from bridge.timeutil import to_iso

PAGE = 100


def held(runtime: Runtime, app: str, hold: Hold) -> Iterator[Submission]:
    """Every submission of ``app`` held back for ``hold``, oldest first."""
    cursor: str | None = None
    while True:
        page = runtime.store.held_submissions(app, hold, limit=PAGE, cursor=cursor)
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def line(submission: Submission) -> str:
    """One submission as the list prints it: id, when, signals, title (never the person)."""
    signals = ",".join(submission.signals) or "-"
    when = to_iso(submission.created_at)
    return f"{submission.id}  {when}  {signals:<24}  {submission.content.title}"


def matching(submissions: Iterator[Submission], text: str) -> list[Submission]:
    """Those whose title or description contains ``text`` (any case)."""
    needle = text.casefold()
    return [
        s
        for s in submissions
        if needle in s.content.title.casefold() or needle in s.content.description.casefold()
    ]


def run_moderate(
    settings: Settings,
    *,
    action: str,
    app_id: str,
    ids: Sequence[str],
    all_matching: str | None,
    state: str,
    reason: str | None,
    dry_run: bool,
    out: TextIO,
) -> int:
    """List the queue, or approve or reject the named (or matching) submissions."""
    from bridge.app import build_runtime

    if settings.app(app_id) is None:
        print(f"featurebridge: no app {app_id!r} in the configuration", file=sys.stderr)
        return EXIT_USAGE
    runtime = build_runtime(settings)
    if action == "list":
        found = [line(s) for s in held(runtime, app_id, Hold(state))]
        print("\n".join(found) if found else f"no {state} submissions in {app_id}", file=out)
        return EXIT_OK
    if bool(ids) == (all_matching is not None):
        print(
            "featurebridge: name submission ids or --all-matching TEXT (one of them)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    chosen = list(ids)
    if all_matching is not None:
        # Rejected ones can be approved after all; approving by text only looks at held ones.
        chosen = [s.id for s in matching(held(runtime, app_id, Hold.HELD), all_matching)]
    verb = "approve" if action == "approve" else "reject"
    if dry_run:
        print(f"would {verb} {len(chosen)} submission(s)", file=out)
        for submission_id in chosen:
            print(f"  {submission_id}", file=out)
        return EXIT_OK
    status = EXIT_OK
    for submission_id in chosen:
        try:
            after = apply_decision(
                runtime, app_id, submission_id, OperatorAction(verb), by="cli", reason=reason
            )
        except UnknownSubmissionError:
            print(f"{submission_id}: no such submission in {app_id}", file=out)
            status = EXIT_PROBLEMS
            continue
        except ActionRefusedError as error:
            print(f"{submission_id}: {error}", file=out)
            status = EXIT_PROBLEMS
            continue
        outcome = "rejected" if after.hold is Hold.REJECTED else "approved"
        if after.number is not None:
            outcome = f"delivered as #{after.number}"
        elif outcome == "approved":
            outcome += ": delivered by the service's next outbox sweep"
        print(f"{submission_id}: {outcome}", file=out)
    if not chosen:
        print(f"no held submissions in {app_id} match", file=out)
    return status
