"""Operator export of aggregated vote data: ``GET /v1/export`` (SPEC §4).

Pages by default (``limit`` rows, ``next_cursor`` in JSON and a ``Link``
header); with ``?stream=true`` every page in one streamed response, for
``featurebridge serve`` (Lambda caps a response at 6 MB: use pages there).
Rows are shaped and serialised by :mod:`bridge.export`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Annotated, Any
from urllib.parse import urlencode

from flask import Blueprint, Response, request
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from bridge.api.access import require_operator, runtime
from bridge.api.cursor import decode_cursor, encode_cursor
from bridge.api.errors import ApiError, fields_of
from bridge.domain import Request, Status
from bridge.export import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    MEDIA_TYPES,
    ExportFormat,
    parse_since,
    serialise,
    walk_pages,
)
from bridge.ports import InvalidCursorError, Page, StoreError
from bridge.settings import AppConfig, Settings

log = logging.getLogger(__name__)

blueprint = Blueprint("export", __name__)

# A page's body stays under this many bytes: once a Lambda response is JSON-escaped
# (quotes, non-ASCII) it must still fit the 6 MB cap. Bigger pages are cut short,
# which the paging contract allows (follow next_cursor until it is null).
PAGE_BODY_BYTES = 3 * 1024 * 1024


# --------------------------------------------------------------------------- models


class ExportParams(BaseModel):
    """Query parameters of the export."""

    model_config = ConfigDict(extra="ignore")

    app: list[Annotated[str, StringConstraints(max_length=100)]] = Field(
        default_factory=list, description="repeatable: ?app=a&app=b; default every app"
    )
    format: ExportFormat = Field(
        default=ExportFormat.JSON,
        description="json (one document), jsonl (one request per line) or csv (text/csv)",
    )
    status: Status | None = None
    since: AwareDatetime | None = Field(
        default=None,
        description="ISO 8601 date or time (UTC when it has no offset): "
        "only requests with updated_at at or after it",
    )
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE)] = Field(
        default=DEFAULT_PAGE_SIZE,
        description="rows per page, at most 10,000; a page may hold fewer "
        "(it also stays under 3 MiB): follow next_cursor or the Link header",
    )
    cursor: Annotated[str, StringConstraints(max_length=1000)] | None = Field(
        default=None, description="next_cursor (or the Link header) of the previous page"
    )
    stream: bool = Field(
        default=False,
        description="every page in one streamed response (featurebridge serve; "
        "not on Lambda, whose responses are capped at 6 MB); not with cursor",
    )

    @field_validator("since", mode="before")
    @classmethod
    def _iso_8601(cls, value: object) -> object:
        return parse_since(value) if isinstance(value, str) else value


class ExportRow(BaseModel):
    """One exported request: an element of ``requests``, a JSONL line, a CSV row."""

    app: str
    number: int
    title: str
    status: Status
    labels: list[str] = Field(description="CSV: joined with ';'")
    github_thumbs_up: int
    bridge_votes: int
    total_votes: int
    weighted_votes: int
    unique_voters: int = Field(description="distinct bridge voters")
    created_at: str
    updated_at: str
    closed_at: str | None
    url: str
    category: str | None = Field(description="from the AI analysis; null until analysed")
    priority: str | None = Field(description="from the AI analysis; null until analysed")


class ExportApp(BaseModel):
    """An exported app."""

    id: str
    name: str
    repo: str


class ExportTotals(BaseModel):
    """Sums over the rows of this response: one page, or the whole stream."""

    requests: int
    github_thumbs_up: int
    bridge_votes: int
    total_votes: int


class ExportDocument(BaseModel):
    """Aggregated vote data (format=json); ``totals`` covers this response's rows only."""

    exported_at: str
    apps: list[ExportApp]
    requests: list[ExportRow]
    totals: ExportTotals
    next_cursor: str | None = Field(description="the next page; null on the last page")


EXPORT_DESCRIPTION = (
    "Operator only (Authorization: Bearer FEATUREBRIDGE_ADMIN_TOKEN). Requests of the "
    "chosen apps ordered by app then number, with their vote counts; never names or "
    'emails. Pages: next_cursor in JSON, and a Link: <url>; rel="next" header in every '
    "format while more rows remain. JSON totals are sums over the rows of this response "
    "(one page), not the whole export. CSV has a header row, labels joined with ';', and "
    "text cells starting with =, +, -, @, tab or CR prefixed with ' (formula injection). "
    "stream=true sends every page in one response under featurebridge serve; on Lambda "
    "(6 MB responses) use pages."
)


# --------------------------------------------------------------------------- the route


@blueprint.get("/v1/export")
def export() -> Response:
    """A page of the export, or (``stream=true``) the whole export streamed."""
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

    def fetch(cursor: str | None, limit: int = params.limit) -> Page:
        try:
            return store.export_requests(
                apps=app_ids, status=status, updated_since=since, limit=limit, cursor=cursor
            )
        except InvalidCursorError as error:
            raise ApiError(
                "bad_request", "cursor is not valid for this export", fields={"cursor": str(error)}
            ) from error

    if params.stream:
        first = fetch(position)  # a failing index answers 503 before streaming starts
        chunks = serialise(fmt, _pages_from(first, fetch), exported_at=exported_at, apps=refs)
        return Response(_logged(chunks), content_type=MEDIA_TYPES[fmt])
    limit = params.limit
    while True:
        page = fetch(position, limit)
        next_cursor = encode_cursor(page.next_cursor, binding) if page.next_cursor else None
        chunks = serialise(
            fmt, [page.items], exported_at=exported_at, apps=refs, next_cursor=next_cursor
        )
        body = "".join(chunks).encode()
        if len(body) <= PAGE_BODY_BYTES or len(page.items) <= 1:
            break
        # Too big for one response: the same page start, fewer rows.
        limit = max(1, len(page.items) * PAGE_BODY_BYTES // len(body) * 9 // 10)
    response = Response(body, content_type=MEDIA_TYPES[fmt])
    if next_cursor is not None:
        response.headers["Link"] = f'<{_next_url(next_cursor)}>; rel="next"'
    return response


def _pages_from(first: Page, fetch: Callable[[str | None], Page]) -> Iterator[Sequence[Request]]:
    yield first.items
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
    values: dict[str, Any] = {key: request.args.get(key) for key in request.args}
    values["app"] = request.args.getlist("app")
    try:
        return ExportParams.model_validate(values)
    except ValidationError as error:
        raise ApiError(
            "bad_request", "invalid query parameters", fields=fields_of(error)
        ) from error
