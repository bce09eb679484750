"""Operator export of aggregated vote data: ``GET /v1/export`` (SPEC §4).

Pages by default (``limit`` rows, ``next_cursor`` in JSON and a ``Link``
header); with ``?stream=true`` every page in one streamed response, for
``featurebridge serve`` (Lambda caps a response at 6 MB: use pages there).
Rows are shaped and serialised by :mod:`bridge.export`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from flask import Blueprint, Response, request
from pydantic import ValidationError

from bridge.api.access import require_operator, runtime
from bridge.api.cursor import decode_cursor, encode_cursor
from bridge.api.errors import ApiError, fields_of
from bridge.ports import ExportPage, InvalidCursorError, StoreError
from bridge.settings import AppConfig, Settings

if TYPE_CHECKING:
    from bridge.api.export_models import ExportParams
    from bridge.export import Row

log = logging.getLogger(__name__)

blueprint = Blueprint("export", __name__)

# A page's body stays under this many bytes: once a Lambda response is JSON-escaped
# (quotes, non-ASCII) it must still fit the 6 MB cap. Bigger pages are cut short,
# which the paging contract allows (follow next_cursor until it is null).
PAGE_BODY_BYTES = 3 * 1024 * 1024


# --------------------------------------------------------------------------- the route


@blueprint.get("/v1/export")
def export() -> Response:
    """A page of the export, or (``stream=true``) the whole export streamed."""
    # Imported here, not at start: only operators export (see export_models).
    from bridge.export import MEDIA_TYPES, STREAM_PAGE_SIZE, serialise

    require_operator()
    params = _params()
    if params.stream and params.cursor:
        raise ApiError(
            "bad_request",
            "stream exports everything from the start",
            fields={"stream": "leave out cursor when streaming"},
        )
    rt = runtime()
    apps = _apps(rt.settings, params.app)
    app_ids = [app.id for app in apps]
    status, since = params.status, params.since
    binding = "|".join(
        ["export", ",".join(app_ids), status or "", since.isoformat() if since else ""]
    )
    position = decode_cursor(params.cursor, binding) if params.cursor else None
    store = rt.store
    fmt = params.format
    exported_at = rt.clock()
    refs = [{"id": app.id, "name": app.name, "repo": app.repo} for app in apps]

    def fetch(cursor: str | None, limit: int = params.limit) -> ExportPage:
        try:
            return store.export_rows(
                apps=app_ids, status=status, updated_since=since, limit=limit, cursor=cursor
            )
        except InvalidCursorError as error:
            raise ApiError(
                "bad_request", "cursor is not valid for this export", fields={"cursor": str(error)}
            ) from error

    if params.stream:

        def fetch_page(cursor: str | None) -> ExportPage:
            return fetch(cursor, min(params.limit, STREAM_PAGE_SIZE))

        first = fetch_page(position)  # a failing index answers 503 before streaming starts
        chunks = serialise(fmt, _pages_from(first, fetch_page), exported_at=exported_at, apps=refs)
        return Response(_logged(chunks), content_type=MEDIA_TYPES[fmt])
    limit = params.limit
    while True:
        page = fetch(position, limit)
        next_cursor = encode_cursor(page.next_cursor, binding) if page.next_cursor else None
        chunks = serialise(
            fmt, [page.rows], exported_at=exported_at, apps=refs, next_cursor=next_cursor
        )
        body = "".join(chunks).encode()
        if len(body) <= PAGE_BODY_BYTES or len(page.rows) <= 1:
            break
        # Too big for one response: the same page start, fewer rows.
        limit = max(1, len(page.rows) * PAGE_BODY_BYTES // len(body) * 9 // 10)
    response = Response(body, content_type=MEDIA_TYPES[fmt])
    if next_cursor is not None:
        response.headers["Link"] = f'<{_next_url(next_cursor)}>; rel="next"'
    return response


def _pages_from(
    first: ExportPage, fetch: Callable[[str | None], ExportPage]
) -> Iterator[Sequence[Row]]:
    from bridge.export import walk_pages

    yield first.rows
    if first.next_cursor is not None:
        yield from walk_pages(fetch, first.next_cursor)


def _logged(chunks: Iterator[str]) -> Iterator[str]:
    # Mid-stream the status line is gone: the index failing cuts the response
    # short (no terminating chunk), and the log says why.
    try:
        yield from chunks
    except StoreError:
        log.exception("export stream cut short: the index failed")
        raise


def _apps(settings: Settings, wanted: Sequence[str]) -> list[AppConfig]:
    """The chosen apps (every app by default), by id; 404 for one not configured."""
    if not wanted:
        return sorted(settings.apps, key=lambda app: app.id)
    chosen: dict[str, AppConfig] = {}
    for app_id in wanted:
        app = settings.app(app_id)
        if app is None:
            raise ApiError("not_found", f"no app {app_id!r}", fields={"app": "not configured"})
        chosen[app.id] = app
    return sorted(chosen.values(), key=lambda app: app.id)


def _next_url(cursor: str) -> str:
    """This request's absolute URL, same query, with the next page's cursor."""
    query = [(k, v) for k, v in request.args.items(multi=True) if k != "cursor"]
    return request.base_url + "?" + urlencode([*query, ("cursor", cursor)])


def _params() -> ExportParams:
    from bridge.api.export_models import ExportParams

    values: dict[str, Any] = {key: request.args.get(key) for key in request.args}
    values["app"] = request.args.getlist("app")
    try:
        return ExportParams.model_validate(values)
    except ValidationError as error:
        raise ApiError(
            "bad_request", "invalid query parameters", fields=fields_of(error)
        ) from error
