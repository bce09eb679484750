"""Pydantic models of one request (with its analysis) and of the similar-requests search.

Loaded by those views when they first run, not by a listing (:mod:`bridge.api.models`),
which would otherwise also build the analysis' models.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from bridge.analysis.model import Duplicate
from bridge.api.models import RequestOut
from bridge.domain import AnalysisRecord, Request, Status
from bridge.similar.terms import DESCRIPTION_SCAN
from bridge.timeutil import to_iso
from bridge.untrusted import NOT_BLANK


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
