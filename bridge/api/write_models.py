"""Pydantic models of the write routes: submitting a request, voting on one.

Imported by those views on their first call and by the OpenAPI builder.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from bridge.domain import Delivery, Status
from bridge.untrusted import NOT_BLANK, SPACE
from bridge.voters import ANONYMOUS_ID_PATTERN

METADATA_MAX_ENTRIES = 20
METADATA_MAX_BYTES = 2048

Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=256, pattern=NOT_BLANK),
]
MetadataKey = Annotated[str, StringConstraints(min_length=1, max_length=64)]
MetadataValue = StrictStr | StrictInt | StrictFloat
EMAIL_PATTERN = rf"^[^@{SPACE}]+@[^@{SPACE}]+\.[^@{SPACE}]+$"
Email = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=254, pattern=EMAIL_PATTERN)
]


NOTIFY_DESCRIPTION = (
    "email me when this request's status changes: to the voter token's email, or to `email`"
    " once its owner confirms it (a confirmation email is sent first)"
)


class SubmissionIn(BaseModel):
    """A feature request as a person submits it."""

    model_config = ConfigDict(extra="forbid")

    title: Title = Field(description="1-256 characters after trimming")
    description: Annotated[str, StringConstraints(max_length=60_000)] = ""
    email: Email | None = Field(
        default=None, description="private: kept in the index, never sent to GitHub"
    )
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = Field(
        default=None, description="private unless the app sets show_submitter_name"
    )
    voter_token: Annotated[str, StringConstraints(max_length=4096)] | None = None
    metadata: dict[MetadataKey, MetadataValue] = Field(
        default_factory=dict,
        description="flat context shown on the issue: at most 20 values, 2 KiB; no personal data",
    )
    notify: StrictBool = Field(default=False, description=NOTIFY_DESCRIPTION)
    # Spam signals of the widget and the hosted form (SPEC §10); not part of the body's identity.
    website: Annotated[str, StringConstraints(max_length=2000)] = Field(
        default="",
        description="leave empty: a field people never see; a value holds the submission",
    )
    form_token: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        default=None,
        description="the render token from GET /v1/apps/{app}/form-token (widget, hosted form)",
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


def _no_default(schema: dict[str, Any]) -> None:
    # Absent is the default; the schema says what may be sent, and null may not.
    schema.pop("default", None)


def _anonymous_id_schema(schema: dict[str, Any]) -> None:
    _no_default(schema)
    schema["pattern"] = ANONYMOUS_ID_PATTERN


class VoteIn(BaseModel):
    """Who votes: a voter token from the host app, or an anonymous browser id (exactly one);
    ``notify`` asks for email about the request, ``email`` (without a token) says where."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "oneOf": [{"required": ["voter_token"]}, {"required": ["anonymous_id"]}],
            "not": {"required": ["voter_token", "email"]},
        },
    )

    voter_token: (
        Annotated[str, StringConstraints(min_length=1, max_length=4096)] | SkipJsonSchema[None]
    ) = Field(default=None, json_schema_extra=_no_default)
    # Any string reaches the voter check, which answers 401 for one of another shape; the
    # schema says the shape it takes.
    anonymous_id: (
        Annotated[str, StringConstraints(min_length=1, max_length=128)] | SkipJsonSchema[None]
    ) = Field(default=None, json_schema_extra=_anonymous_id_schema)
    notify: StrictBool = Field(default=False, description=NOTIFY_DESCRIPTION)
    email: Email | SkipJsonSchema[None] = Field(
        default=None,
        description="without a voter token: where to email (confirmed by its owner first);"
        " private, never sent to GitHub",
        json_schema_extra=_no_default,
    )

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: object) -> object:
        # Absent means absent: a null is not one of the two ways to name a voter.
        if isinstance(data, dict):
            for key in ("voter_token", "anonymous_id", "email"):
                if key in data and data[key] is None:
                    raise ValueError(f"{key} must be a string when given")
        return data

    @model_validator(mode="after")
    def _email_without_token(self) -> VoteIn:
        if self.email is not None and self.voter_token is not None:
            raise ValueError("email is for votes without a voter token: the token names it")
        return self


class VoteOut(BaseModel):
    """The request's counts after the vote, and whether this voter's vote stands."""

    github_thumbs_up: int
    bridge_votes: int
    total_votes: int
    voted: bool
    notify: Literal["subscribed", "confirming", "unavailable"] | SkipJsonSchema[None] = Field(
        default=None,
        description="when the vote asked for email: `subscribed` (emails will come),"
        " `confirming` (a confirmation email went to the typed address) or `unavailable`"
        " (email is off, no address is known, or the address unsubscribed)",
        json_schema_extra=_no_default,
    )


FormAnswer = StrictStr | list[StrictStr]
QuestionTitle = Annotated[str, StringConstraints(min_length=1, max_length=1000)]


class GoogleFormPostIn(BaseModel):
    """A Google Form response as the Apps Script posts it (signed; see the route)."""

    model_config = ConfigDict(extra="forbid")

    response_id: Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]{1,255}$")] = Field(
        description="the form's response id: the idempotency key, 1-255 visible ASCII characters"
    )
    answers: dict[QuestionTitle, FormAnswer] = Field(
        description="question title → answer, or the list of answers of a multi-choice question"
    )
    respondent_email: Email | None = Field(
        default=None, description="private: kept in the index, never sent to GitHub"
    )


class TypeformFieldRef(BaseModel):
    """The question an answer (or a definition entry) belongs to."""

    model_config = ConfigDict(extra="ignore")

    id: StrictStr | None = None
    ref: Annotated[str, StringConstraints(min_length=1, max_length=1000)]
    title: StrictStr | None = None


class TypeformChoice(BaseModel):
    model_config = ConfigDict(extra="ignore")

    label: StrictStr | None = None
    other: StrictStr | None = None


class TypeformChoices(BaseModel):
    model_config = ConfigDict(extra="ignore")

    labels: list[StrictStr] = []
    other: StrictStr | None = None


class TypeformAnswer(BaseModel):
    """One answer, its value under the key its ``type`` names (Typeform's format)."""

    model_config = ConfigDict(extra="ignore")

    type: Annotated[str, StringConstraints(min_length=1, max_length=50)]
    field: TypeformFieldRef
    text: StrictStr | None = None
    email: StrictStr | None = None
    url: StrictStr | None = None
    file_url: StrictStr | None = None
    date: StrictStr | None = None
    number: StrictInt | StrictFloat | None = None
    boolean: bool | None = None
    choice: TypeformChoice | None = None
    choices: TypeformChoices | None = None


class TypeformDefinition(BaseModel):
    model_config = ConfigDict(extra="ignore")

    fields: list[TypeformFieldRef] = []


class TypeformResponse(BaseModel):
    model_config = ConfigDict(extra="ignore")

    token: Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]{1,255}$")] = Field(
        description="the response's token: the idempotency key"
    )
    definition: TypeformDefinition = TypeformDefinition()
    answers: list[TypeformAnswer] = []


class TypeformPostIn(BaseModel):
    """A Typeform webhook delivery (``event_type: form_response``); other keys are ignored."""

    model_config = ConfigDict(extra="ignore")

    event_type: StrictStr = "form_response"
    form_response: TypeformResponse


class FeedbackFinPostIn(BaseModel):
    """The widget's post; ``config.user``'s keys arrive beside these and stay private."""

    model_config = ConfigDict(extra="allow")

    feedbackType: StrictStr = Field(max_length=50, description="idea, issue, other, ...")
    message: StrictStr = Field(min_length=1, max_length=60_000)
    timestamp: StrictInt | None = Field(default=None, description="milliseconds since the epoch")
    email: StrictStr | None = Field(default=None, max_length=254)
    name: StrictStr | None = Field(default=None, max_length=1000)


class FeedbackFinIgnoredOut(BaseModel):
    """A Feedback Fin post of a type the app does not file."""

    filed: bool = False
    message: str
