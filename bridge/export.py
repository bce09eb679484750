"""Export of aggregated vote data as JSON, JSONL or CSV: pure row shaping and serialisers.

Everything here takes data and returns data. The serialisers are generators
that take an iterable of pages (each a sequence of :class:`Row`) and yield text
chunks, one per page, so an export of any size streams in constant memory:
the caller decides where pages come from (the index store, through
:func:`walk_pages`) and where chunks go (a Flask response, a file).

Rows never carry a submitter's name or email: :func:`export_row` builds them
from the index's :class:`~bridge.domain.Request`, which has neither, and a store
that computes them itself (``IndexStore.export_rows``) is held to the same rows.
"""

from __future__ import annotations

import csv
import enum
import io
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from json.encoder import encode_basestring
from typing import TYPE_CHECKING, NamedTuple

from msgspec import Struct

from bridge.domain import Request
from bridge.timeutil import to_iso

if TYPE_CHECKING:
    from bridge.ports import ExportPage


class ExportFormat(enum.StrEnum):
    """The formats of ``GET /v1/export`` and ``featurebridge export``."""

    JSON = "json"
    JSONL = "jsonl"
    CSV = "csv"


MEDIA_TYPES: Mapping[ExportFormat, str] = {
    ExportFormat.JSON: "application/json",
    ExportFormat.JSONL: "application/jsonl; charset=utf-8",
    ExportFormat.CSV: "text/csv; charset=utf-8",
}

DEFAULT_PAGE_SIZE = 1_000
MAX_PAGE_SIZE = 10_000
# The store pages of a whole export (the CLI, a streamed response): 300,000 rows export
# about 10% faster in pages of 250 than of 1,000 and 40% faster than of 5,000 (bench/export.py),
# as a page's rows, cells and text stay in the CPU's caches.
STREAM_PAGE_SIZE = 250
LABEL_SEPARATOR = ";"

# OWASP CSV injection: a cell starting with one of these is a formula to spreadsheets.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_STARTS = frozenset(FORMULA_PREFIXES)

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


# --------------------------------------------------------------------------- rows


class Row(NamedTuple):
    """One exported request; the fields are the columns of every format, in order (SPEC §4)."""

    app: str
    number: int
    title: str
    status: str
    labels: tuple[str, ...]
    github_thumbs_up: int
    bridge_votes: int
    total_votes: int
    weighted_votes: int
    unique_voters: int
    created_at: str
    updated_at: str
    closed_at: str | None
    url: str
    category: str | None
    priority: str | None


COLUMNS: tuple[str, ...] = Row._fields


def analysis_fields(request: Request) -> tuple[str | None, str | None]:
    """``(category, priority)`` from the request's AI analysis, when there is one.

    The one place the export reads the analysis; both are None until analysed
    and after a failed analysis.
    """
    analysis = request.analysis
    if analysis is None or analysis.failed:
        return None, None
    priority = analysis.priority
    return analysis.category, None if priority is None else str(priority)


def unique_voters(request: Request) -> int:
    """Distinct bridge voters. One vote per voter today, so it equals ``bridge_votes``."""
    return request.bridge_votes


def export_row(request: Request) -> Row:
    """One request as the export's row. Never a name or email: ``Request`` has neither."""
    category, priority = analysis_fields(request)
    return Row(
        request.app,
        request.number,
        request.title,
        request.status.value,
        request.labels,
        request.github_thumbs_up,
        request.bridge_votes,
        request.github_thumbs_up + request.bridge_votes,
        request.weighted_votes,
        unique_voters(request),
        _iso(request.created_at),
        _iso(request.updated_at),
        _iso(request.closed_at) if request.closed_at is not None else None,
        request.url,
        category,
        priority,
    )


def _iso(moment: datetime) -> str:
    # to_iso's text; the index hands out UTC datetimes, and isoformat is much
    # faster than strftime on the export's hot path.
    if moment.tzinfo is UTC:
        return moment.isoformat()[:19] + "Z"
    return to_iso(moment)


def escape_cell(text: str) -> str:
    """Neutralise a spreadsheet formula: prefix ``'`` when the text starts like one."""
    return "'" + text if text[:1] in _FORMULA_STARTS else text


def csv_cells(row: Row) -> tuple[object, ...]:
    """A row as CSV cells: labels joined with ``;``, text escaped; numbers stay numbers.

    ``None`` stays ``None``, which ``csv.writer`` writes as an empty cell. The
    status and the timestamps are the bridge's own text (an enum value, ISO
    8601 starting with the year), so only the other text cells are checked:
    this is the export's hot path, hence positions rather than names.
    """
    starts = _FORMULA_STARTS
    app, title, url, category, priority = row[0], row[2], row[13], row[14], row[15]
    labels = LABEL_SEPARATOR.join(row[4])
    # Inline tests rather than calls: most cells need nothing.
    return (
        "'" + app if app[:1] in starts else app,
        row[1],  # number
        "'" + title if title[:1] in starts else title,
        row[3],  # status
        "'" + labels if labels[:1] in starts else labels,
        *row[5:13],  # the counts, created_at, updated_at, closed_at
        "'" + url if url[:1] in starts else url,
        _cell(category),
        _cell(priority),
    )


def _cell(text: str | None) -> str | None:
    return "'" + text if text and text[0] in _FORMULA_STARTS else text


_JSON_OBJECT = (
    '{"app":%s,"number":%d,"title":%s,"status":%s,"labels":[%s],"github_thumbs_up":%d,'
    '"bridge_votes":%d,"total_votes":%d,"weighted_votes":%d,"unique_voters":%d,'
    '"created_at":%s,"updated_at":%s,"closed_at":%s,"url":%s,"category":%s,"priority":%s}'
)


def json_object(row: Row) -> str:
    """A row as a compact JSON object, keys in column order.

    The text ``json.dumps(row._asdict(), ensure_ascii=False, separators=(",", ":"))``
    gives, about twice as fast (the keys are written once, in the template, and
    the row is unpacked rather than read field by field).
    """
    (
        app,
        number,
        title,
        status,
        labels,
        thumbs_up,
        bridge_votes,
        total_votes,
        weighted_votes,
        unique,
        created_at,
        updated_at,
        closed_at,
        url,
        category,
        priority,
    ) = row
    text = encode_basestring
    return _JSON_OBJECT % (
        text(app),
        number,
        text(title),
        text(status),
        ",".join(map(text, labels)),
        thumbs_up,
        bridge_votes,
        total_votes,
        weighted_votes,
        unique,
        text(created_at),
        text(updated_at),
        "null" if closed_at is None else text(closed_at),
        text(url),
        "null" if category is None else text(category),
        "null" if priority is None else text(priority),
    )


# --------------------------------------------------------------------------- totals


class Totals(Struct):
    """Sums over the exported rows."""

    requests: int = 0
    github_thumbs_up: int = 0
    bridge_votes: int = 0
    total_votes: int = 0

    def add(self, row: Row) -> None:
        """Count one exported row."""
        self.requests += 1
        self.github_thumbs_up += row.github_thumbs_up
        self.bridge_votes += row.bridge_votes
        self.total_votes += row.total_votes

    def to_json(self) -> dict[str, int]:
        """The ``totals`` object."""
        return {
            "requests": self.requests,
            "github_thumbs_up": self.github_thumbs_up,
            "bridge_votes": self.bridge_votes,
            "total_votes": self.total_votes,
        }


# --------------------------------------------------------------------------- serialisers


def csv_chunks(pages: Iterable[Sequence[Row]]) -> Iterator[str]:
    """The header row, then the rows, one chunk per page (RFC 4180: CRLF, minimal quoting)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for page in pages:
        writer.writerows([csv_cells(row) for row in page])
        if buffer.tell():
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():  # no page at all: the header alone
        yield buffer.getvalue()


def jsonl_chunks(pages: Iterable[Sequence[Row]]) -> Iterator[str]:
    """One JSON object per line; one chunk per non-empty page."""
    for page in pages:
        if page:
            yield "\n".join([json_object(row) for row in page]) + "\n"


def json_chunks(
    pages: Iterable[Sequence[Row]],
    *,
    exported_at: datetime,
    apps: Sequence[Mapping[str, str]],
    next_cursor: str | None,
) -> Iterator[str]:
    """The JSON document, streamed: head, requests page by page, then totals.

    ``totals`` follows ``requests`` so that a whole export streams in constant
    memory (its sums are known only at the end); JSON objects are unordered.
    """
    encode = _ENCODER.encode
    yield (
        '{"exported_at":'
        + encode(to_iso(exported_at))
        + ',"apps":'
        + encode([dict(app) for app in apps])
        + ',"requests":['
    )
    totals = Totals()
    separator = ""
    for page in pages:
        if not page:
            continue
        parts = []
        for row in page:
            totals.add(row)
            parts.append(json_object(row))
        yield separator + ",".join(parts)
        separator = ","
    yield ('],"totals":' + encode(totals.to_json()) + ',"next_cursor":' + encode(next_cursor) + "}")


def serialise(
    fmt: ExportFormat,
    pages: Iterable[Sequence[Row]],
    *,
    exported_at: datetime,
    apps: Sequence[Mapping[str, str]],
    next_cursor: str | None = None,
) -> Iterator[str]:
    """The chunks of an export in ``fmt``; ``next_cursor`` appears only in JSON."""
    if fmt is ExportFormat.CSV:
        return csv_chunks(pages)
    if fmt is ExportFormat.JSONL:
        return jsonl_chunks(pages)
    return json_chunks(pages, exported_at=exported_at, apps=apps, next_cursor=next_cursor)


# --------------------------------------------------------------------------- paging and input


def walk_pages(
    fetch: Callable[[str | None], ExportPage], cursor: str | None = None
) -> Iterator[Sequence[Row]]:
    """Every page from ``cursor`` on: ``fetch(cursor)`` until ``next_cursor`` is None."""
    while True:
        page = fetch(cursor)
        yield page.rows
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def parse_since(text: str) -> datetime:
    """An ISO 8601 date or time as aware UTC (naive means UTC); ValueError otherwise."""
    try:
        moment = datetime.fromisoformat(text.strip())
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError) as error:
        raise ValueError(
            "not an ISO 8601 date or time, e.g. 2026-11-25 or 2026-11-25T12:00:00Z"
        ) from error
