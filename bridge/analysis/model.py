"""The shape of one analysis, and the rules a model's answer must keep.

The rules that depend on the request (its app's categories, the labels that
may be suggested, the issues that may be named as duplicates) are checked by
the model class itself, from the validation context an ``AnalysisInput``
supplies, so one ``model_validate`` call accepts or rejects an answer whole.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import Struct, field
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

# Used when an app lists no ``categories`` of its own.
DEFAULT_CATEGORIES = (
    "feature",
    "improvement",
    "bug",
    "integration",
    "performance",
    "ux",
    "documentation",
    "other",
)


class AnalysisInput(Struct, frozen=True):
    """What the model is given about one request, and what it may answer with."""

    app_id: str
    number: int
    title: str
    description: str
    categories: tuple[str, ...] = DEFAULT_CATEGORIES
    # Labels both listed in ``[apps.analysis] allowed_labels`` and present in the repo.
    allowed_labels: tuple[str, ...] = ()
    # Similar issues of this app, by number, with their titles.
    candidates: dict[int, str] = field(default_factory=dict)

    def context(self) -> dict[str, Any]:
        """The validation context for ``Analysis.model_validate``."""
        return {
            "categories": self.categories,
            "allowed_labels": self.allowed_labels,
            "candidates": self.candidates,
            "number": self.number,
        }


class Duplicate(BaseModel):
    """An existing issue of the same app that asks for the same thing."""

    model_config = ConfigDict(extra="forbid", strict=True)

    number: Annotated[int, Field(ge=1, description="The issue number of the similar request.")]
    reason: Annotated[
        str,
        Field(min_length=1, max_length=200, description="One line: why it asks the same."),
    ]


class Analysis(BaseModel):
    """One request's triage, as the model reports it through the tool."""

    model_config = ConfigDict(extra="forbid", strict=True)

    summary: Annotated[
        str, Field(min_length=1, max_length=400, description="At most two sentences.")
    ]
    category: Annotated[str, Field(description="Exactly one of the listed categories.")]
    sentiment: Literal["positive", "neutral", "negative", "mixed"]
    priority: Annotated[int, Field(ge=1, le=10, description="1 (low) to 10 (urgent).")]
    priority_reason: Annotated[
        str, Field(min_length=1, max_length=200, description="One line: why this priority.")
    ]
    complexity: Literal["S", "M", "L", "XL"]
    business_value: Literal["low", "medium", "high"]
    suggested_labels: Annotated[
        list[str], Field(max_length=5, description="Only labels from the allowed list.")
    ] = []
    likely_duplicates: Annotated[
        list[Duplicate],
        Field(max_length=5, description="Only issues from the similar-requests list."),
    ] = []

    @field_validator("summary")
    @classmethod
    def _two_sentences(cls, value: str) -> str:
        ends = sum(value.count(mark) for mark in (". ", "! ", "? "))
        if ends > 1:
            raise ValueError("the summary has more than two sentences")
        return value

    @field_validator("category")
    @classmethod
    def _known_category(cls, value: str, info: ValidationInfo) -> str:
        categories = (info.context or {}).get("categories", DEFAULT_CATEGORIES)
        if value not in categories:
            raise ValueError(f"{value!r} is not one of the categories")
        return value

    @field_validator("suggested_labels")
    @classmethod
    def _allowed_labels(cls, value: list[str], info: ValidationInfo) -> list[str]:
        allowed = (info.context or {}).get("allowed_labels", ())
        outside = [label for label in value if label not in allowed]
        if outside:
            raise ValueError(f"labels outside the allowed set: {outside}")
        return list(dict.fromkeys(value))

    @field_validator("likely_duplicates")
    @classmethod
    def _known_duplicates(cls, value: list[Duplicate], info: ValidationInfo) -> list[Duplicate]:
        context = info.context or {}
        candidates = context.get("candidates", {})
        for duplicate in value:
            if duplicate.number not in candidates or duplicate.number == context.get("number"):
                raise ValueError(f"#{duplicate.number} is not one of this app's similar requests")
        return value


def input_schema(request: AnalysisInput) -> dict[str, Any]:
    """The tool's JSON schema: ``Analysis`` with this request's choices as enums.

    References are inlined: several Converse models reject ``$ref``.
    """
    generated = Analysis.model_json_schema()
    schema: dict[str, Any] = _inline(generated, generated.get("$defs", {}))
    properties = schema["properties"]
    properties["category"]["enum"] = list(request.categories)
    properties["suggested_labels"]["items"] = {
        "type": "string",
        "enum": list(request.allowed_labels),
    }
    if not request.allowed_labels:
        properties["suggested_labels"]["maxItems"] = 0
    properties["likely_duplicates"]["items"]["properties"]["number"]["enum"] = sorted(
        request.candidates
    )
    if not request.candidates:
        properties["likely_duplicates"]["maxItems"] = 0
    return schema


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            return _inline(defs[ref.rsplit("/", 1)[-1]], defs)
        return {key: _inline(value, defs) for key, value in node.items() if key != "$defs"}
    if isinstance(node, list):
        return [_inline(item, defs) for item in node]
    return node


class AnalysisOutcome(Struct, frozen=True):
    """One analysis attempt's end: an ``Analysis`` or why there is none, and its token cost."""

    analysis: Analysis | None
    error: str | None
    tokens: int
    model_id: str
