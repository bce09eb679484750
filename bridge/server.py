"""``featurebridge serve`` and ``worker``: one machine, a WSGI server plus a worker thread."""

from __future__ import annotations

import json
import logging
import signal
import threading
from types import FrameType
from typing import TYPE_CHECKING, Any

from bridge.api.errors import CODE_OF_STATUS
from bridge.api.github import WEBHOOK_BODY_LIMIT
from bridge.app import build_runtime, create_app
from bridge.jobs import SWEEP_BATCH, run_job, scheduled_sync_job, sweep
from bridge.privacy.retention import SERVE_INTERVAL_SECONDS, retention_job
from bridge.queues import ThreadJobQueue
from bridge.runtime import Runtime
from bridge.settings import Settings

if TYPE_CHECKING:
    from waitress.channel import HTTPChannel
    from waitress.server import BaseWSGIServer, MultiSocketServer
    from waitress.utilities import Error

log = logging.getLogger(__name__)

# waitress buffers a body before the app sees it: bound that to the largest body
# any route accepts (a GitHub webhook), one byte more so the route itself says 413.
MAX_BUFFERED_BODY = WEBHOOK_BODY_LIMIT + 1


def _start_worker(runtime: Runtime, queue: ThreadJobQueue) -> None:
    sync_every = runtime.settings.server.sync_interval_minutes * 60.0
    periodic = [(sync_every, scheduled_sync_job())] if runtime.tracker.health().configured else []
    if runtime.settings.server.retain_personal_days is not None:
        periodic.append((SERVE_INTERVAL_SECONDS, retention_job()))
    queue.start(
        lambda job: run_job(runtime, job),
        lambda: sweep(runtime),
        sweep_batch=SWEEP_BATCH,
        periodic=periodic,
    )


def serve(settings: Settings, *, host: str, port: int, threads: int = 8) -> int:
    """Serve HTTP with waitress and drain the outbox in a background thread."""
    from waitress.server import create_server

    queue = ThreadJobQueue()
    runtime = build_runtime(settings, queue=queue)
    app = create_app(settings, runtime)
    server = create_server(
        app,
        host=host,
        port=port,
        threads=threads,
        ident=None,
        max_request_body_size=MAX_BUFFERED_BODY,
    )
    _answer_errors_in_json(server)
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


def _answer_errors_in_json(server: BaseWSGIServer | MultiSocketServer) -> None:
    """Make waitress's own answers (413, malformed HTTP) speak the error envelope."""
    from waitress.server import BaseWSGIServer

    channel = _json_error_channel()
    listeners = list((server.map or {}).values()) if not isinstance(server, BaseWSGIServer) else []
    for listener in [server, *listeners]:
        if isinstance(listener, BaseWSGIServer):
            listener.channel_class = channel


def _json_error_channel() -> type[HTTPChannel]:
    from waitress.channel import HTTPChannel
    from waitress.task import ErrorTask

    class JsonErrorTask(ErrorTask):
        def execute(self) -> None:
            # waitress gives an error task the failed request's parser (its stubs say Error).
            parser: Any = self.request
            error: Error = parser.error
            code = CODE_OF_STATUS.get(error.code, "bad_request")
            message = error.reason.lower()
            body = json.dumps({"error": {"code": code, "message": message}}).encode()
            self.status = f"{error.code} {error.reason}"
            self.response_headers = [("Content-Type", "application/json")]
            self.set_close_on_finish()
            self.content_length = len(body)
            self.write(body)

    class JsonErrorChannel(HTTPChannel):
        error_task_class = JsonErrorTask

    return JsonErrorChannel


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
