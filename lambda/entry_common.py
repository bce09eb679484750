"""What the Lambda entries share: one runtime per process, built on first use.

The entries are modules at the root of the deployment package (``lambda/`` is
the code root; ``lambda`` itself is a keyword and cannot be a package name).
Their names end in ``_entry`` so none of them shadows a standard-library
module: a ``lambda/http.py`` would replace ``http`` for every import in the
process, Flask's and botocore's included.

Nothing here builds a client at import time: settings, store, tracker and queue
are built by the same wiring point as ``featurebridge serve``
(:func:`bridge.app.build_runtime`) on the first invocation and cached for the
life of the process, which is the life of the Lambda execution environment.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bridge.ports import Job
    from bridge.runtime import Runtime

QUEUE_URL_ENV = "FEATUREBRIDGE_QUEUE_URL"

log = logging.getLogger("featurebridge.lambda")

_runtime: Runtime | None = None


class SweepOnlyQueue:
    """No queue configured: jobs are dropped and the scheduled outbox sweep does the work.

    Submissions are in the index before anything is enqueued, so nothing is
    lost; delivery only waits for the next sweep instead of the next second.
    """

    def enqueue(self, job: Job, *, delay_seconds: float = 0) -> None:
        """Log and let the sweep find the work."""
        log.info("no %s: %s job left to the scheduled sweep", QUEUE_URL_ENV, job.kind)

    def depth(self) -> int | None:
        """Nothing is queued; the outbox counts what waits."""
        return None


def runtime() -> Runtime:
    """The process's runtime: settings, store, tracker and queue, built once."""
    global _runtime  # noqa: PLW0603 -- a per-process cache, the point of this module
    if _runtime is None:
        from bridge.app import build_runtime
        from bridge.logs import configure as configure_logging
        from bridge.settings import Settings

        configure_logging()

        settings = Settings.from_env()
        if not settings.queue_url:
            log.warning("%s is not set: deliveries wait for the scheduled sweep", QUEUE_URL_ENV)
        # With a queue URL build_runtime chooses SQS; without, jobs wait for the sweep.
        _runtime = build_runtime(settings, queue=None if settings.queue_url else SweepOnlyQueue())
    return _runtime


def use_runtime(runtime: Runtime | None) -> None:
    """Replace the process's runtime (tests pass their own; None rebuilds from env)."""
    global _runtime  # noqa: PLW0603
    _runtime = runtime


def out_of_time(context: Any, *, margin_seconds: float) -> bool:
    """Whether fewer than ``margin_seconds`` remain in this invocation."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:  # a test or a local call without a real context
        return False
    return bool(remaining() < margin_seconds * 1000)
