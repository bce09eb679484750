"""schemathesis hooks for the run against ``featurebridge serve`` (tests/test_schemathesis.py).

Signed routes are signed here, over the exact bytes the client sends, so their positive
cases reach the service's logic rather than stopping at 401; the export's JSON Lines
answers are read as the list of their rows.
"""

from __future__ import annotations

import json
import os
import secrets
import time
import urllib.parse
from typing import Any

import schemathesis

from bridge.api.google_forms import sign as sign_google_form
from bridge.api.typeform import sign as sign_typeform
from bridge.notify.email import tokens
from github_app.webhooks import sign as sign_webhook

FORM_SECRET = "form-secret-for-fuzzing"
TYPEFORM_SECRET = "typeform-secret-for-fuzzing"
WEBHOOK_SECRET = "webhook-secret-for-fuzzing"
SIGNING_SECRET = "signing-secret-for-fuzzing"
# The email links' paths and the purpose their tokens are signed for.
EMAIL_LINKS = {"/v1/unsubscribe": tokens.UNSUBSCRIBE, "/v1/confirm": tokens.CONFIRM}
ORIGIN = "https://app.example.com"
# The question title and Typeform ref the run's app maps to a request's title.
FORM_TITLE_QUESTION = "Idea"
TYPEFORM_TITLE_REF = "idea"


_IDS = {
    "/v1/apps/{app}/moderation/{id}/approve": "FUZZ_APPROVE_ID",
    "/v1/apps/{app}/moderation/{id}/reject": "FUZZ_REJECT_ID",
    "/v1/outbox/{id}": "FUZZ_CANCEL_ID",
    "/v1/outbox/{id}/retry": "FUZZ_RETRY_ID",
}


def wire_bytes(case: Any) -> bytes:
    """The body as the requests transport puts it on the wire (json= or data=)."""
    if case.media_type == "application/x-www-form-urlencoded":
        return urllib.parse.urlencode(case.body, doseq=True).encode()
    return json.dumps(case.body, allow_nan=False).encode()


def _positive(case: Any) -> bool:
    meta = case.meta
    return meta is None or not meta.generation.mode.is_negative


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    path = case.operation.path
    if path == "/v1/apps/{app}/feedbackfin":
        case.headers = {**(case.headers or {}), "Origin": ORIGIN}
    if path in EMAIL_LINKS and _positive(case):
        subscriber_id = secrets.token_hex(16)
        token = tokens.sign(SIGNING_SECRET.encode(), EMAIL_LINKS[path], subscriber_id)
        case.query = {**(case.query or {}), "token": token}
    if path in _IDS and _positive(case):
        # Submissions the test made for these routes (held ones, a delivered one).
        case.path_parameters = {**case.path_parameters, "id": os.environ[_IDS[path]]}
    if not _positive(case) or not isinstance(case.body, dict):
        return
    if path == "/v1/apps/{app}/google-forms" and isinstance(case.body.get("answers"), dict):
        case.body["answers"].setdefault(FORM_TITLE_QUESTION, "Dark mode")
        timestamp = str(int(time.time()))
        case.headers = {
            **(case.headers or {}),
            "X-Featurebridge-Timestamp": timestamp,
            "X-Featurebridge-Signature": sign_google_form(FORM_SECRET, timestamp, wire_bytes(case)),
        }
    elif path == "/v1/apps/{app}/typeform" and isinstance(case.body.get("form_response"), dict):
        answers = case.body["form_response"].setdefault("answers", [])
        if isinstance(answers, list):
            answers.append({"type": "text", "field": {"ref": TYPEFORM_TITLE_REF}, "text": "Idea"})
        case.headers = {
            **(case.headers or {}),
            "Typeform-Signature": sign_typeform(TYPEFORM_SECRET, wire_bytes(case)),
        }
    elif path == "/github/webhooks":
        case.headers = {
            **(case.headers or {}),
            "X-Hub-Signature-256": sign_webhook(wire_bytes(case), WEBHOOK_SECRET),
        }


@schemathesis.deserializer("application/jsonl")
def jsonl_rows(context: Any, response: Any) -> list[Any]:
    """JSON Lines: one row a line."""
    return [json.loads(line) for line in response.content.splitlines() if line.strip()]
