"""Job queues: an in-process thread worker for ``serve``."""

from __future__ import annotations

import heapq
import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence

from bridge.ports import Job

log = logging.getLogger(__name__)


class ThreadJobQueue:
    """A queue drained by one background thread, which also sweeps the outbox."""

    def __init__(self) -> None:
        self._jobs: queue.Queue[Job] = queue.Queue()
        self._delayed: list[tuple[float, int, Job]] = []  # a heap by due time
        self._order = itertools.count()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def enqueue(self, job: Job, *, delay_seconds: float = 0) -> None:
        """Hand a job to the worker thread, now or once the delay has passed."""
        if delay_seconds <= 0:
            self._jobs.put(job)
            return
        with self._lock:
            heapq.heappush(
                self._delayed, (time.monotonic() + delay_seconds, next(self._order), job)
            )

    def depth(self) -> int | None:
        """Jobs waiting in memory, delayed ones included."""
        with self._lock:
            return self._jobs.qsize() + len(self._delayed)

    def _release_due(self, now: float) -> None:
        with self._lock:
            while self._delayed and self._delayed[0][0] <= now:
                self._jobs.put(heapq.heappop(self._delayed)[2])

    def start(
        self,
        run: Callable[[Job], None],
        sweep: Callable[[], int],
        *,
        sweep_every: float = 2.0,
        sweep_batch: int = 50,
        periodic: Sequence[tuple[float, Job]] = (),
    ) -> None:
        """Start the worker: run each job as it comes, sweep when idle.

        ``periodic`` jobs are enqueued every so many seconds, the first after
        one interval (the schedule of ``serve``, like EventBridge on Lambda).
        """
        due = [time.monotonic() + every for every, _ in periodic]

        def loop() -> None:
            while not self._stop.is_set():
                now = time.monotonic()
                self._release_due(now)
                for index, (every, job) in enumerate(periodic):
                    if now >= due[index]:
                        self._jobs.put(job)
                        due[index] = now + every
                try:
                    job = self._jobs.get(timeout=sweep_every)
                except queue.Empty:
                    self._sweep_until_idle(sweep, sweep_batch)
                    continue
                self._guarded(lambda job=job: run(job))  # type: ignore[misc]

        self._thread = threading.Thread(target=loop, name="featurebridge-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the worker to finish its current job and stop."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _sweep_until_idle(self, sweep: Callable[[], int], batch: int) -> None:
        # A full batch means more may be due: keep going until a sweep comes up short.
        while not self._stop.is_set():
            done = self._guarded(sweep)
            if not isinstance(done, int) or done < batch:
                return

    @staticmethod
    def _guarded(step: Callable[[], object]) -> object:
        try:
            return step()
        except Exception:
            # The worker must outlive any one job; the outbox keeps the work.
            log.exception("background job failed")
            return None
