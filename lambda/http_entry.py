"""Lambda entry for the HTTP API: ``http_entry.handler`` (API Gateway HTTP API, payload 2.0).

The same Flask app as ``featurebridge serve`` (``bridge.app.create_app``),
wrapped by a2wsgi's WSGI-to-ASGI bridge and Mangum. Flask cannot be given to
Mangum directly (it is WSGI, Mangum speaks ASGI), and ``lifespan="off"``
because a WSGI app has no lifespan events to run.

Everything is built on the first invocation and kept for the process:
importing this module only imports the standard library.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from entry_common import runtime

if TYPE_CHECKING:
    from bridge.runtime import Runtime

Adapter = Callable[[dict[str, Any], Any], dict[str, Any]]

# One request at a time reaches a Lambda process, so one WSGI thread is enough.
WSGI_WORKERS = 1

_adapter: tuple[Runtime, Adapter] | None = None


def build_adapter(wsgi_app: Any) -> Adapter:
    """Mangum around a2wsgi around a WSGI app; also used by tests and the benchmark."""
    from a2wsgi import WSGIMiddleware
    from mangum import Mangum

    # a2wsgi's precise ASGI types and Mangum's looser ones do not unify for mypy.
    asgi_app: Any = WSGIMiddleware(wsgi_app, workers=WSGI_WORKERS)
    adapter: Adapter = Mangum(asgi_app, lifespan="off")
    return adapter


def adapter() -> Adapter:
    """The process's adapter, rebuilt only when the runtime is replaced (tests)."""
    global _adapter  # noqa: PLW0603 -- a per-process cache
    current = runtime()
    if _adapter is None or _adapter[0] is not current:
        from bridge.app import create_app

        _adapter = (current, build_adapter(create_app(current.settings, current)))
    return _adapter[1]


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answer one API Gateway HTTP API event."""
    return adapter()(event, context)
