"""Pydantic models of the export: its query parameters and the documents it answers.

Imported by the export view on its first call and by the OpenAPI builder,
never at start: building them is a cost no other route should pay.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, field_validator

from bridge.api.cursor import CURSOR_PATTERN
from bridge.domain import Status
from bridge.export import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, ExportFormat, parse_since


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
    cursor: Annotated[str, StringConstraints(pattern=CURSOR_PATTERN)] | None = Field(
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
