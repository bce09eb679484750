"""Trying GitHub within the request for a bounded time, then letting go."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from datetime import datetime

from bridge.domain import Submission


class InlineDelivery:
    """Runs deliveries on a small pool so a request can wait a bounded time.

    When the wait runs out the attempt carries on in the pool and the request
    answers 202; the submission's lease (taken when it was stored) keeps the
    worker from starting a second attempt meanwhile.
    """

    def __init__(
        self, deliver: Callable[[Submission, datetime], Submission | None], *, workers: int = 4
    ) -> None:
        self._deliver = deliver
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="featurebridge-inline"
        )

    def attempt(
        self, leased: Submission, *, lease_until: datetime, timeout: float
    ) -> Submission | None:
        """The submission after an attempt that finished in time, else None.

        ``leased`` was stored leased to this process until ``lease_until``.
        """
        future = self._pool.submit(self._deliver, leased, lease_until)
        try:
            return future.result(timeout=timeout)
        except concurrent.futures.TimeoutError:
            return None

    def shutdown(self) -> None:
        """Let running attempts finish."""
        self._pool.shutdown(wait=True)
