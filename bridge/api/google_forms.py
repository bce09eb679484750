"""The Google Forms channel: a form's Apps Script posts each response, signed.

Verify, then parse, then submit: the signature is checked on the raw body before
anything of it is read, and a verified response takes the same accept, deliver
and answer path as an API submission, its form response id as the idempotency key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from flask import Blueprint, Response, request
from pydantic import ValidationError

from bridge.api.access import app_or_404, runtime
from bridge.api.body import API_BODY_LIMIT, read_body, read_raw
from bridge.api.errors import ApiError, fields_of
from bridge.api.submitting import accept_and_answer
from bridge.domain import Source, SubmissionContent
from bridge.settings import AppConfig, FormFieldMap

# The post's model is imported by the view: a cold start on another route skips it.
if TYPE_CHECKING:
    from bridge.api.write_models import GoogleFormPostIn

blueprint = Blueprint("google_forms", __name__)

TIMESTAMP_HEADER = "X-Featurebridge-Timestamp"
SIGNATURE_HEADER = "X-Featurebridge-Signature"
SIGNATURE_PREFIX = "sha256="
MAX_SKEW_SECONDS = 5 * 60
TITLE_MAX = 256
DESCRIPTION_MAX = 60_000
# The idempotency keys of form responses cannot collide with an API client's keys.
KEY_PREFIX = "google-forms:"
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")


class FormAnswerError(ValueError):
    """A verified post whose answers cannot make a request; ``field`` names the answer."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def signing_string(timestamp: str, body: bytes) -> bytes:
    """What the Apps Script signs: ``"<timestamp>.<raw body>"``."""
    return timestamp.encode("ascii") + b"." + body


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Featurebridge-Signature`` value of a body sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), signing_string(timestamp, body), hashlib.sha256)
    return SIGNATURE_PREFIX + digest.hexdigest()


def signature_problem(
    secret: str, timestamp: str | None, signature: str | None, body: bytes, now: datetime
) -> str | None:
    """Why the post's signature is not acceptable, or None when it is (constant-time)."""
    if not timestamp or not signature:
        return f"{TIMESTAMP_HEADER} and {SIGNATURE_HEADER} are required"
    if not _TIMESTAMP.match(timestamp):
        return f"{TIMESTAMP_HEADER} must be unix seconds"
    if abs(now.timestamp() - int(timestamp)) > MAX_SKEW_SECONDS:
        return f"{TIMESTAMP_HEADER} is more than {MAX_SKEW_SECONDS // 60} minutes from now"
    expected = sign(secret, timestamp, body).encode()
    given = signature.strip().lower().encode("utf-8", "replace")
    if not hmac.compare_digest(expected, given):
        return f"{SIGNATURE_HEADER} does not match the body"
    return None


def answer_text(answer: str | Sequence[str]) -> str:
    """One answer as text: a multi-choice answer's choices joined with ", "."""
    text = answer if isinstance(answer, str) else ", ".join(answer)
    return text.strip()


def form_content(
    answers: Mapping[str, str | Sequence[str]],
    respondent_email: str | None,
    questions: FormFieldMap,
    *,
    email_pattern: str,
    title_max: int,
    question_names: Mapping[str, str] | None = None,
) -> SubmissionContent:
    """A submission from a form's answers, mapped by the app's question keys.

    Answers to other questions follow the description as ``**Question**`` lines,
    headed by ``question_names[key]`` where the keys are not what people read
    (Typeform's field refs); the email question's answer is private and never
    among them.
    """
    names = question_names or {}
    title = answer_text(answers.get(questions.title, ""))
    field = f"answers.{questions.title}"
    if not title:
        raise FormAnswerError(field, f"the title question {questions.title!r} has no answer")
    if len(title) > title_max:
        raise FormAnswerError(field, f"the title answer is over {title_max} characters")
    mapped = {questions.title, questions.description, questions.email}
    parts = []
    if questions.description is not None:
        parts.append(answer_text(answers.get(questions.description, "")))
    for question, answer in answers.items():
        text = answer_text(answer)
        if question not in mapped and text:
            heading = names.get(question, question)
            parts.append(f"**{' '.join(heading.split())}**\n{text}")
    description = "\n\n".join(part for part in parts if part)
    if len(description) > DESCRIPTION_MAX:
        raise FormAnswerError(
            "answers", f"the answers make a description over {DESCRIPTION_MAX} characters"
        )
    email = respondent_email
    if questions.email is not None:
        # A form may not check its email question; an answer that is no address is dropped.
        given = answer_text(answers.get(questions.email, ""))
        if len(given) <= 254 and re.match(email_pattern, given):
            email = given
    return SubmissionContent(title=title, description=description, email=email)


@blueprint.post("/v1/apps/<app_id>/google-forms")
def google_form_response(app_id: str) -> tuple[Response, int]:
    """File a signed Google Form response as a request (201 delivered, 202 queued)."""
    from bridge.api.write_models import EMAIL_PATTERN, GoogleFormPostIn
    from bridge.submissions import fingerprint

    app = app_or_404(app_id)
    secret = _form_secret(app)
    raw = read_raw(API_BODY_LIMIT)
    problem = signature_problem(
        secret,
        request.headers.get(TIMESTAMP_HEADER),
        request.headers.get(SIGNATURE_HEADER),
        raw,
        runtime().clock(),
    )
    if problem:
        raise ApiError("unauthorized", problem)
    try:
        post: GoogleFormPostIn = GoogleFormPostIn.model_validate(read_body(allow_form=False))
        content = form_content(
            post.answers,
            post.respondent_email,
            app.google_forms,
            email_pattern=EMAIL_PATTERN,
            title_max=TITLE_MAX,
        )
    except ValidationError as error:
        raise ApiError(
            "validation_failed", "the form response has invalid fields", fields=fields_of(error)
        ) from error
    except FormAnswerError as error:
        raise ApiError("validation_failed", str(error), fields={error.field: str(error)}) from error
    # No per-IP submission limit: these posts come server-to-server from Google's
    # Apps Script addresses, shared by every form there; the signature is the gate.
    return accept_and_answer(
        app,
        content,
        source=Source.GOOGLE_FORMS,
        voter=None,
        idempotency_key=KEY_PREFIX + post.response_id,
        body_fingerprint=fingerprint(post.model_dump(mode="json")),
        key_name="response_id",
        client=None,
    )


def _form_secret(app: AppConfig) -> str:
    secret = runtime().settings.secrets.get(app.form_secret_env) if app.form_secret_env else None
    if not secret:
        raise ApiError(
            "forbidden",
            f"app {app.id!r} takes no Google Forms posts: set form_secret_env and its secret",
        )
    return secret
