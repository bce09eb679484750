"""The Typeform channel: a form's webhook posts each response, signed by Typeform.

As for Google Forms: verify the raw body, then parse, then submit through the
same accept, deliver and answer path, the response's ``token`` as the
idempotency key. Answers are found by their field's ``ref`` (``[apps.typeform]``)
and read by their ``type``; answers of private kinds never reach GitHub.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from typing import TYPE_CHECKING

from flask import Blueprint, Response, request
from pydantic import ValidationError

from bridge.api.access import app_or_404, runtime
from bridge.api.body import API_BODY_LIMIT, read_body, read_raw
from bridge.api.errors import ApiError, fields_of
from bridge.api.google_forms import TITLE_MAX, FormAnswerError, form_content
from bridge.api.submitting import accept_and_answer
from bridge.domain import Source, SubmissionContent
from bridge.settings import AppConfig, TypeformConfig

if TYPE_CHECKING:
    from bridge.api.write_models import TypeformAnswer, TypeformResponse

blueprint = Blueprint("typeform", __name__)

SIGNATURE_HEADER = "Typeform-Signature"
SIGNATURE_PREFIX = "sha256="
KEY_PREFIX = "typeform:"
# Contact details and payments are the respondent's own: never written to GitHub.
PRIVATE_TYPES = frozenset({"email", "phone_number", "payment"})


def sign(secret: str, body: bytes) -> str:
    """The ``Typeform-Signature`` of ``body``: ``sha256=`` and the base64 HMAC-SHA256."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return SIGNATURE_PREFIX + base64.b64encode(digest).decode("ascii")


def signature_problem(secret: str, signature: str | None, body: bytes) -> str | None:
    """Why the delivery's signature is not acceptable, or None when it is (constant-time)."""
    if not signature or not signature.strip():
        return f"{SIGNATURE_HEADER} is required"
    expected = sign(secret, body).encode()
    if not hmac.compare_digest(expected, signature.strip().encode("utf-8", "replace")):
        return f"{SIGNATURE_HEADER} does not match the body"
    return None


def answer_value(answer: TypeformAnswer) -> str | list[str] | None:
    """An answer as text by its ``type``, or None for a kind this channel does not read."""
    kind = answer.type
    if kind == "choice" and answer.choice is not None:
        return answer.choice.label or answer.choice.other or ""
    if kind == "choices" and answer.choices is not None:
        other = [answer.choices.other] if answer.choices.other else []
        return [*answer.choices.labels, *other]
    if kind == "boolean" and answer.boolean is not None:
        return "Yes" if answer.boolean else "No"
    if kind == "number" and answer.number is not None:
        return f"{answer.number:g}"
    if kind in {"text", "email", "url", "file_url", "date"}:
        value: str | None = getattr(answer, kind)
        return value
    return None


def typeform_content(
    response: TypeformResponse, fields: TypeformConfig, *, email_pattern: str
) -> SubmissionContent:
    """A submission from a Typeform response, its answers mapped by field ``ref``."""
    answers: dict[str, str | list[str]] = {}
    first_email: str | None = None
    for answer in response.answers:
        value = answer_value(answer)
        ref = answer.field.ref
        if answer.type == "email" and first_email is None and ref != fields.email:
            first_email = answer.email
        # Private kinds are read only where the mapping names them (the email).
        if value is None or (answer.type in PRIVATE_TYPES and ref != fields.email):
            continue
        answers[ref] = value
    names = {field.ref: field.title for field in response.definition.fields if field.title}
    # No email field mapped: the form's first email question is the respondent's.
    fallback = first_email if fields.email is None else None
    if fallback is not None and not (len(fallback) <= 254 and re.match(email_pattern, fallback)):
        fallback = None
    return form_content(
        answers,
        fallback,
        fields,
        email_pattern=email_pattern,
        title_max=TITLE_MAX,
        question_names=names,
    )


@blueprint.post("/v1/apps/<app_id>/typeform")
def typeform_response(app_id: str) -> tuple[Response, int]:
    """File a signed Typeform response as a request (201 delivered, 202 queued)."""
    from bridge.api.write_models import EMAIL_PATTERN, TypeformPostIn
    from bridge.submissions import fingerprint

    app = app_or_404(app_id)
    secret = _typeform_secret(app)
    raw = read_raw(API_BODY_LIMIT)
    problem = signature_problem(secret, request.headers.get(SIGNATURE_HEADER), raw)
    if problem:
        raise ApiError("unauthorized", problem)
    try:
        post = TypeformPostIn.model_validate(read_body(allow_form=False))
        content = typeform_content(post.form_response, app.typeform, email_pattern=EMAIL_PATTERN)
    except ValidationError as error:
        raise ApiError(
            "validation_failed", "the Typeform delivery has invalid fields", fields=fields_of(error)
        ) from error
    except FormAnswerError as error:
        field = error.field.replace("answers.", "form_response.answers.", 1)
        raise ApiError("validation_failed", str(error), fields={field: str(error)}) from error
    # Typeform posts from its own servers, retrying a failed delivery: the
    # signature is the gate and the token makes a retry file nothing new.
    return accept_and_answer(
        app,
        content,
        source=Source.FORM,
        voter=None,
        idempotency_key=KEY_PREFIX + post.form_response.token,
        body_fingerprint=fingerprint(post.model_dump(mode="json")),
        key_name="form_response.token",
        client=None,
    )


def _typeform_secret(app: AppConfig) -> str:
    variable = app.typeform_secret_env
    secret = runtime().settings.secrets.get(variable) if variable else None
    if not secret:
        raise ApiError(
            "forbidden",
            f"app {app.id!r} takes no Typeform posts: set typeform_secret_env and its secret",
        )
    return secret
