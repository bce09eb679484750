"""Two ways to reach the double: an in-process httpx transport and a loopback server."""

from __future__ import annotations

import contextlib
import contextvars
import socket
import threading
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import httpx
from werkzeug.serving import WSGIRequestHandler, make_server

from tests.github_double.faults import DroppedConnectionError

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

_raw_target: contextvars.ContextVar[str] = contextvars.ContextVar("raw_target")


class InProcessTransport(httpx.WSGITransport):
    """``httpx.WSGITransport`` that hands the app the raw request target and turns a
    dropped answer into the error httpx raises when a server hangs up."""

    def __init__(self, app: WSGIApplication) -> None:
        super().__init__(app=self._call_app)
        self._target_app = app

    def _call_app(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        # httpx gives PATH_INFO already percent-decoded; the double routes on raw segments.
        environ["RAW_URI"] = _raw_target.get("")
        return self._target_app(environ, start_response)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Serve ``request`` through the app in this thread."""
        token = _raw_target.set(request.url.raw_path.decode("ascii"))
        try:
            return super().handle_request(request)
        except DroppedConnectionError as exc:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            ) from exc
        finally:
            _raw_target.reset(token)


class _Handler(WSGIRequestHandler):
    # http.server with keep-alive stalls ~40 ms a request on Nagle + delayed ACK.
    disable_nagle_algorithm = True

    def connection_dropped(self, error: BaseException, environ: Any = None) -> None:
        """Hang up without an answer when a fault asks for it."""
        if isinstance(error, DroppedConnectionError):
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Stay quiet: ``double.calls`` is the request log."""


@contextlib.contextmanager
def serve(app: WSGIApplication) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 (random port) from a thread; yields the base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
