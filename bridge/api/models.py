"""Pydantic models of the read routes (listing, one request) and the error envelope.

Each view imports the models it uses when it first runs: a cold start builds
only those (the write routes' models are in :mod:`bridge.api.write_models`,
the export's in :mod:`bridge.api.export_models`, ``Health`` is in
:mod:`bridge.api.ops`). Together they validate the API and generate its
OpenAPI description (:mod:`bridge.api.openapi`).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from bridge.analysis.model import Duplicate
from bridge.api.cursor import CURSOR_PATTERN
from bridge.domain import AnalysisRecord, Request, SortOrder, Source, Status
from bridge.similar.terms import DESCRIPTION_SCAN
from bridge.timeutil import to_iso
from bridge.untrusted import NOT_BLANK


class ListParams(BaseModel):
    """Query parameters of a listing."""

    model_config = ConfigDict(extra="ignore")

    status: Status | None = None
    sort: SortOrder = SortOrder.TOP
    q: Annotated[str, StringConstraints(max_length=200)] | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 20
    cursor: Annotated[str, StringConstraints(pattern=CURSOR_PATTERN)] | None = Field(
        default=None, description="next_cursor of the previous page with the same filters"
    )


class SimilarParams(BaseModel):
    """Query parameters of a similar-requests search: the draft so far."""

    model_config = ConfigDict(extra="ignore")

    title: Annotated[str, StringConstraints(min_length=1, max_length=256, pattern=NOT_BLANK)]
    # Only the first DESCRIPTION_SCAN characters are searched; more would only make a URL
    # long enough for the server's header limit to refuse (431) before the route saw it.
    description: Annotated[str, StringConstraints(max_length=DESCRIPTION_SCAN)] = ""
    limit: Annotated[int, Field(ge=1, le=10)] = 5


class SimilarOut(BaseModel):
    """A request like the draft; a duplicate is shown as its original."""

    number: int
    title: str
    status: Status
    url: str
    total_votes: int
    score: Annotated[float, Field(ge=0, le=1)] = Field(
        description="lexical likeness: BM25 as s / (s + 6) on SQLite, title-word cosine on"
        " DynamoDB; comparable within one answer, not across apps or stores"
    )


class SimilarList(BaseModel):
    """Likely duplicates of a draft, best first."""

    items: list[SimilarOut]


class RequestOut(BaseModel):
    """A request as the public API shows it."""

    number: int
    title: str
    status: Status
    url: str
    labels: list[str]
    source: Source
    github_thumbs_up: int
    bridge_votes: int
    total_votes: int
    created_at: str
    updated_at: str
    closed_at: str | None
    duplicate_of: int | None
    voted: bool | None = Field(
        default=None, description="present when X-Featurebridge-Voter carries a voter token"
    )

    @classmethod
    def of(cls, request: Request) -> RequestOut:
        """Shape a domain request for the API."""
        return cls(
            number=request.number,
            title=request.title,
            status=request.status,
            url=request.url,
            labels=list(request.labels),
            source=request.source,
            github_thumbs_up=request.github_thumbs_up,
            bridge_votes=request.bridge_votes,
            total_votes=request.total_votes,
            created_at=to_iso(request.created_at),
            updated_at=to_iso(request.updated_at),
            closed_at=to_iso(request.closed_at) if request.closed_at else None,
            duplicate_of=request.duplicate_of,
        )

    def to_json(self) -> dict[str, object]:
        """The JSON object, without ``voted`` when it is not known."""
        return self.model_dump(mode="json", exclude={"voted"} if self.voted is None else set())


class AnalysisOut(BaseModel):
    """A request's latest AI analysis: what its issue's analysis comment says."""

    model_id: str
    analysed_at: str
    summary: str
    category: str
    sentiment: Literal["positive", "neutral", "negative", "mixed"]
    priority: Annotated[int, Field(ge=1, le=10)]
    priority_reason: str
    complexity: Literal["S", "M", "L", "XL"]
    business_value: Literal["low", "medium", "high"]
    suggested_labels: list[str]
    likely_duplicates: list[Duplicate] = Field(description="issues of the same app, each with why")

    @classmethod
    def of(cls, record: AnalysisRecord | None) -> AnalysisOut | None:
        """The analysis to show, or None when there is none or it failed."""
        if record is None or record.failed:
            return None
        try:
            return cls.model_validate(
                {
                    **record.fields,
                    "model_id": record.model_id,
                    "analysed_at": to_iso(record.analysed_at),
                }
            )
        except ValidationError:  # kept by a version of the bridge with another shape
            return None


class RequestDetailOut(RequestOut):
    """One request, with its analysis."""

    analysis: AnalysisOut | None = Field(
        default=None, description="null until analysed, or when the last analysis failed"
    )

    @classmethod
    def of(cls, request: Request) -> RequestDetailOut:
        """Shape a domain request and its analysis for the API."""
        shown = RequestOut.of(request)
        return cls(**dict(shown), analysis=AnalysisOut.of(request.analysis))


class RequestList(BaseModel):
    """A page of a listing."""

    items: list[RequestOut]
    next_cursor: str | None


class AppOut(BaseModel):
    """An app whose requests this caller may read."""

    id: str
    name: str
    repo: str = Field(description="the GitHub repository its requests are filed in")
    public: bool = Field(description="anyone may read it; otherwise the operator or its voters")


class AppList(BaseModel):
    """The apps this caller may read, by id."""

    items: list[AppOut]


class ErrorBody(BaseModel):
    """What went wrong."""

    code: str
    message: str
    fields: dict[str, str] | None = None


class ErrorOut(BaseModel):
    """The error envelope."""

    error: ErrorBody


class SyncQueuedOut(BaseModel):
    """The reconciliation is queued; the worker runs it."""

    queued: bool = Field(description="always true")
    app: str | None = Field(description="the app to reconcile, or null for every app")


class SyncParams(BaseModel):
    """Query parameters of ``POST /v1/sync``."""

    app: str | None = Field(default=None, description="one app's id; every app when absent")


class WebhookAnswerOut(BaseModel):
    """How a GitHub delivery was taken: applied (or already applied), ignored, or a ping."""

    model_config = ConfigDict(extra="forbid")

    ok: bool = Field(description="always true")
    applied: bool | None = Field(default=None, description="false: this delivery was seen before")
    ignored: str | None = Field(default=None, description="why the delivery changed nothing")
    zen: str | None = Field(default=None, description="the ping's zen line")
