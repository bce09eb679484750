"""Pydantic models that validate the API and generate its OpenAPI description."""

from __future__ import annotations

import json
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    StringConstraints,
    field_validator,
)

from bridge.domain import Delivery, Request, SortOrder, Source, Status
from bridge.timeutil import to_iso

METADATA_MAX_ENTRIES = 20
METADATA_MAX_BYTES = 2048

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=256)]
MetadataKey = Annotated[str, StringConstraints(min_length=1, max_length=64)]
MetadataValue = StrictStr | StrictInt | StrictFloat


class SubmissionIn(BaseModel):
    """A feature request as a person submits it."""

    model_config = ConfigDict(extra="forbid")

    title: Title = Field(description="1-256 characters after trimming")
    description: Annotated[str, StringConstraints(max_length=60_000)] = ""
    email: (
        Annotated[
            str,
            StringConstraints(
                strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
            ),
        ]
        | None
    ) = Field(default=None, description="private: kept in the index, never sent to GitHub")
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = Field(
        default=None, description="private unless the app sets show_submitter_name"
    )
    voter_token: Annotated[str, StringConstraints(max_length=4096)] | None = None
    metadata: dict[MetadataKey, MetadataValue] = Field(
        default_factory=dict,
        description="flat context shown on the issue: at most 20 values, 2 KiB; no personal data",
    )

    @field_validator("metadata")
    @classmethod
    def _metadata_size(cls, value: dict[str, str | int | float]) -> dict[str, str | int | float]:
        if len(value) > METADATA_MAX_ENTRIES:
            raise ValueError(f"at most {METADATA_MAX_ENTRIES} entries")
        if len(json.dumps(value, ensure_ascii=False).encode()) > METADATA_MAX_BYTES:
            raise ValueError(f"at most {METADATA_MAX_BYTES} bytes in all")
        return value


class SubmissionOut(BaseModel):
    """The state of a submission: delivered (201) or queued (202)."""

    id: str = Field(description="submission id, the one in the issue's marker")
    status: Status
    delivery: Delivery
    number: int | None = None
    url: str | None = None


class ListParams(BaseModel):
    """Query parameters of a listing."""

    model_config = ConfigDict(extra="ignore")

    status: Status | None = None
    sort: SortOrder = SortOrder.TOP
    q: Annotated[str, StringConstraints(max_length=200)] | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 20
    cursor: Annotated[str, StringConstraints(max_length=1000)] | None = None


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


class VoteIn(BaseModel):
    """Who votes: a voter token from the host app, or an anonymous browser id."""

    model_config = ConfigDict(extra="forbid")

    voter_token: Annotated[str, StringConstraints(min_length=1, max_length=4096)] | None = None
    anonymous_id: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None


class VoteOut(BaseModel):
    """The request's counts after the vote, and whether this voter's vote stands."""

    github_thumbs_up: int
    bridge_votes: int
    total_votes: int
    voted: bool


class ErrorBody(BaseModel):
    """What went wrong."""

    code: str
    message: str
    fields: dict[str, str] | None = None


class ErrorOut(BaseModel):
    """The error envelope."""

    error: ErrorBody


class Health(BaseModel):
    """Each dependency's state."""

    status: str = Field(description="ok, degraded (works, something waits) or down")
    index: dict[str, object]
    github: dict[str, object]
    queue: dict[str, object]
