"""Lambda entry for the HTTP API: ``http_entry.handler`` (API Gateway HTTP API, payload 2.0).

The same Flask app as ``featurebridge serve`` (``bridge.app.create_app``),
wrapped by a2wsgi's WSGI-to-ASGI bridge and Mangum. Flask cannot be given to
Mangum directly (it is WSGI, Mangum speaks ASGI), and ``lifespan="off"``
because a WSGI app has no lifespan events to run.

Everything is built on the first invocation and kept for the process:
importing this module only imports the standard library. That first build runs
with the cyclic garbage collector paused, and what it built is then frozen
(``gc.freeze``): it lives as long as the process, so collections while
importing (about a hundred of them, ~5% of a cold start) and every later full
collection would only walk it again to find it alive.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from entry_common import runtime

if TYPE_CHECKING:
    from bridge.runtime import Runtime

Adapter = Callable[[dict[str, Any], Any], dict[str, Any]]

# One request at a time reaches a Lambda process, so one WSGI thread is enough.
WSGI_WORKERS = 1

_adapter: tuple[Runtime, Adapter] | None = None
_first_build = True


def build_adapter(wsgi_app: Any) -> Adapter:
    """Mangum around a2wsgi around a WSGI app; also used by tests and the benchmark."""
    from a2wsgi import WSGIMiddleware
    from mangum import Mangum

    # a2wsgi's precise ASGI types and Mangum's looser ones do not unify for mypy.
    asgi_app: Any = WSGIMiddleware(wsgi_app, workers=WSGI_WORKERS)
    adapter: Adapter = Mangum(asgi_app, lifespan="off")
    return adapter


@contextmanager
def process_startup() -> Iterator[None]:
    """Pause the cyclic GC while the process's first build runs, then freeze what it built.

    Once per process (tests rebuild adapters: they pass through), and only when
    the collector is on. Garbage cycles made while building stay frozen too;
    measured, they are about a thousand memory blocks, once.
    """
    global _first_build  # noqa: PLW0603 -- once per process
    if not (_first_build and gc.isenabled()):
        yield
        return
    _first_build = False
    gc.disable()
    try:
        yield
        gc.freeze()
    finally:
        gc.enable()


def adapter() -> Adapter:
    """The process's adapter, rebuilt only when the runtime is replaced (tests)."""
    global _adapter  # noqa: PLW0603 -- a per-process cache
    if _adapter is not None and _adapter[0] is runtime():
        return _adapter[1]
    with process_startup():
        from bridge.app import create_app

        current = runtime()
        _adapter = (current, build_adapter(create_app(current.settings, current)))
    return _adapter[1]


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answer one API Gateway HTTP API event."""
    # API Gateway's request id (also in its access log) becomes the request's log id.
    gateway_id = (event.get("requestContext") or {}).get("requestId")
    headers = event.get("headers")
    if gateway_id and isinstance(headers, dict) and "x-request-id" not in headers:
        headers["x-request-id"] = str(gateway_id)
    return adapter()(event, context)
