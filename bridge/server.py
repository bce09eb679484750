"""``featurebridge serve`` and ``worker``: one machine, a WSGI server plus a worker thread."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from bridge.app import build_runtime, create_app
from bridge.jobs import SWEEP_BATCH, run_job, sweep, sync_job
from bridge.queues import ThreadJobQueue
from bridge.runtime import Runtime
from bridge.settings import Settings

log = logging.getLogger(__name__)


def _start_worker(runtime: Runtime, queue: ThreadJobQueue) -> None:
    sync_every = runtime.settings.server.sync_interval_minutes * 60.0
    queue.start(
        lambda job: run_job(runtime, job),
        lambda: sweep(runtime),
        sweep_batch=SWEEP_BATCH,
        periodic=[(sync_every, sync_job())] if runtime.tracker.health().configured else [],
    )


def serve(settings: Settings, *, host: str, port: int, threads: int = 8) -> int:
    """Serve HTTP with waitress and drain the outbox in a background thread."""
    from waitress.server import create_server

    queue = ThreadJobQueue()
    runtime = build_runtime(settings, queue=queue)
    app = create_app(settings, runtime)
    server = create_server(app, host=host, port=port, threads=threads, ident=None)
    _start_worker(runtime, queue)
    tracker = runtime.tracker.health()
    log.info(
        "Feature Bridge on http://%s:%s (%d app(s), store %s; GitHub: %s)",
        host,
        port,
        len(settings.apps),
        settings.store_url,
        "configured" if tracker.configured else tracker.detail,
    )

    def _stop(signum: int, frame: FrameType | None) -> None:
        log.info("stopping (signal %d)", signum)
        server.close()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        server.run()
    except OSError:
        # waitress raises when its sockets close under it during shutdown.
        log.debug("server loop ended", exc_info=True)
    finally:
        queue.stop()
    return 0


def work(settings: Settings) -> int:
    """Run only the worker until interrupted."""
    queue = ThreadJobQueue()
    runtime = build_runtime(settings, queue=queue)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    _start_worker(runtime, queue)
    log.info("Feature Bridge worker running (store %s)", settings.store_url)
    stopped.wait()
    queue.stop()
    return 0
