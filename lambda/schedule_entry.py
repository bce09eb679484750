"""Lambda entry for the schedule: ``schedule_entry.handler`` (an EventBridge rule).

Runs the periodic work ``featurebridge serve`` runs in its worker thread: the
worker's idle pass (``bridge.jobs.sweep``: the submission outbox through
``sweep_outbox``, then due vote tallies) and, when GitHub is configured, the
reconciliation (``bridge.sync.sync_all``, what the ``sync`` job runs: incremental
unless a full pass is due). After the sweep, while any submission still waits
for GitHub, it writes the oldest one's age as an embedded metric (``bridge.metrics``).
Both run here rather than through the queue: a sync of a large repository can
outlast the worker's timeout, and this function has five minutes. The sweep
stops when a batch comes up short or the invocation nears its timeout; the
next scheduled run carries on.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from entry_common import out_of_time, runtime

if TYPE_CHECKING:
    from bridge.runtime import Runtime

log = logging.getLogger("featurebridge.lambda.schedule")

STOP_MARGIN_SECONDS = 30.0
# A sweep that keeps coming back full this many times is left to the next run.
MAX_ROUNDS = 200


def sweep(rt: Runtime, context: Any) -> int:
    """Run serve's idle pass until a batch comes back short; return the submissions tried.

    The pass is ``bridge.jobs.sweep``: the submission outbox, then due vote tallies.
    """
    from bridge import jobs

    total = 0
    for _ in range(MAX_ROUNDS):
        attempted = jobs.sweep(rt)
        total += attempted
        if attempted < jobs.SWEEP_BATCH or out_of_time(context, margin_seconds=STOP_MARGIN_SECONDS):
            break
    return total


def sync(rt: Runtime, context: Any) -> int:
    """Reconcile every app with GitHub, incrementally unless a full pass is due; return how
    many apps were synced (0 without GitHub)."""
    if not rt.tracker.health().configured:
        return 0
    from bridge.sync import sync_all

    reports = sync_all(rt, full=None)
    for report in reports:
        log.info("sync %s", report.summary())
    return len(reports)


def metrics(rt: Runtime, context: Any) -> int:
    """While submissions wait for GitHub, write the oldest one's age as one embedded-metric
    log line; 1 when it wrote one.

    Standard output reaches CloudWatch Logs line by line, and CloudWatch turns the
    line into the ``OldestPendingSubmissionAge`` metric the stack's alarm watches.
    Nothing is written while nothing waits: a custom metric is billed for the hours
    it is written in, and the alarm reads no figure as all clear.
    """
    from bridge.metrics import oldest_pending_line

    stats = rt.store.outbox_stats()
    if stats.pending == 0:
        return 0
    function = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "schedule")
    sys.stdout.write(oldest_pending_line(stats, now=rt.clock(), function=function) + "\n")
    sys.stdout.flush()
    return 1


def retention(rt: Runtime, context: Any) -> int:
    """Drop personal data past ``retain_personal_days``, at the day's first run; 1 if it ran."""
    from bridge.privacy.retention import drop_expired_personal_data, due_on_schedule

    settings = rt.settings.server
    if settings.retain_personal_days is None:
        return 0
    if not due_on_schedule(rt.clock(), settings.sync_interval_minutes):
        return 0
    drop_expired_personal_data(rt, {})
    return 1


TASKS: dict[str, Callable[[Runtime, Any], int]] = {
    "sweep": sweep,
    "metrics": metrics,
    "sync": sync,
    "retention": retention,
}


def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    """Run every scheduled task once; return what each did.

    A task that raises is logged and the others still run; the invocation then
    fails so the error shows in the function's error metric.
    """
    rt = runtime()
    log.info("scheduled run %s at %s", event.get("id", "?"), event.get("time", "?"))
    results: dict[str, int] = {}
    failed: list[str] = []
    for name, task in TASKS.items():
        try:
            results[name] = task(rt, context)
        except Exception:
            log.exception("scheduled task %s failed", name)
            failed.append(name)
    if failed:
        raise ScheduledTaskError(f"scheduled task(s) failed: {', '.join(failed)}")
    return results


class ScheduledTaskError(RuntimeError):
    """One or more scheduled tasks raised (each is logged with its traceback)."""
