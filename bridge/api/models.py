"""Pydantic models of the listings: an app's requests, and the apps.

Each view imports the models it uses when it first runs: a cold start builds
only those (one request's and the similar search's models are in
:mod:`bridge.api.detail_models`, the write routes' in :mod:`bridge.api.write_models`,
the export's in :mod:`bridge.api.export_models`, the operator routes', the
webhook's, the email links' and the error envelope in :mod:`bridge.api.answer_models`;
``Health`` is in :mod:`bridge.api.ops`). Together they validate the API and
generate its OpenAPI description (:mod:`bridge.api.openapi`).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from bridge.api.cursor import CURSOR_PATTERN
from bridge.domain import Request, SortOrder, Source, Status
from bridge.timeutil import to_iso


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
