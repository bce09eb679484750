"""The Typeform channel: signed webhook deliveries become requests."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from bridge.api.typeform import SIGNATURE_HEADER, sign
from bridge.app import build_runtime, create_app
from bridge.settings import Settings
from bridge.stores.sqlite import SQLiteStore
from tests.conftest import CONFIG, error_code
from tests.fakes import FakeClock, FakeTracker, RecordingQueue

URL = "/v1/apps/mobile/typeform"
SECRET = "typeform-secret"

TYPEFORM_CONFIG = CONFIG.replace(
    'form_secret_env = "MOBILE_FORM_SECRET"',
    'form_secret_env = "MOBILE_FORM_SECRET"\ntypeform_secret_env = "MOBILE_TYPEFORM_SECRET"',
).replace(
    "[apps.status_labels]",
    """[apps.typeform]
title = "idea"
description = "details"
email = "contact"

[apps.status_labels]""",
)


def _field(id_: str, ref: str, kind: str, title: str) -> dict[str, object]:
    return {"id": id_, "ref": ref, "type": kind, "title": title}


# A delivery in the shape Typeform documents for its webhooks (event_type form_response).
DELIVERY: dict[str, Any] = {
    "event_id": "01HX5Y0ZQ8V7A9BXXKQK3R9N4M",
    "event_type": "form_response",
    "form_response": {
        "form_id": "lT4Z3j",
        "token": "a3a12ec67a1365927098a606107fac15",
        "landed_at": "2026-12-01T10:00:00Z",
        "submitted_at": "2026-12-01T10:01:30Z",
        "definition": {
            "id": "lT4Z3j",
            "title": "Feature ideas",
            "fields": [
                _field("Ab1", "idea", "short_text", "What should we build?"),
                _field("Ab2", "details", "long_text", "Tell us more"),
                _field("Ab3", "platforms", "multiple_choice", "Which platforms?"),
                _field("Ab4", "often", "dropdown", "How often?"),
                _field("Ab5", "score", "opinion_scale", "How much do you need it?"),
                _field("Ab6", "paid", "yes_no", "Are you a paying customer?"),
                _field("Ab7", "contact", "email", "Email (optional)"),
                _field("Ab8", "phone", "phone_number", "Phone"),
                _field("Ab9", "when", "date", "Needed by"),
            ],
        },
        "answers": [
            {
                "type": "text",
                "text": "Dark mode",
                "field": {"id": "Ab1", "type": "short_text", "ref": "idea"},
            },
            {
                "type": "text",
                "text": "Easier on the eyes at night",
                "field": {"id": "Ab2", "type": "long_text", "ref": "details"},
            },
            {
                "type": "choices",
                "choices": {"ids": ["c1", "c2"], "labels": ["iOS", "Android"], "other": "Web"},
                "field": {"id": "Ab3", "type": "multiple_choice", "ref": "platforms"},
            },
            {
                "type": "choice",
                "choice": {"id": "c9", "label": "Daily"},
                "field": {"id": "Ab4", "type": "dropdown", "ref": "often"},
            },
            {
                "type": "number",
                "number": 9,
                "field": {"id": "Ab5", "type": "opinion_scale", "ref": "score"},
            },
            {
                "type": "boolean",
                "boolean": True,
                "field": {"id": "Ab6", "type": "yes_no", "ref": "paid"},
            },
            {
                "type": "email",
                "email": "ada@example.com",
                "field": {"id": "Ab7", "type": "email", "ref": "contact"},
            },
            {
                "type": "phone_number",
                "phone_number": "+15551234567",
                "field": {"id": "Ab8", "type": "phone_number", "ref": "phone"},
            },
            {
                "type": "date",
                "date": "2027-01-31",
                "field": {"id": "Ab9", "type": "date", "ref": "when"},
            },
        ],
    },
}


@pytest.fixture
def typeform_client(
    make_settings: Callable[..., Settings], tmp_path: Path, tracker: FakeTracker, clock: FakeClock
) -> Any:
    rt = build_runtime(
        make_settings(TYPEFORM_CONFIG, MOBILE_TYPEFORM_SECRET=SECRET),
        store=SQLiteStore(tmp_path / "index.db"),
        tracker=tracker,
        queue=RecordingQueue(),
        clock=clock,
    )
    flask_app = create_app(rt.settings, rt)
    yield flask_app.test_client()
    flask_app.extensions["featurebridge.inline"].shutdown()


def post(
    client: FlaskClient,
    body: dict[str, Any] | bytes,
    *,
    secret: str = SECRET,
    signature: str | None = None,
    url: str = URL,
) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    header = sign(secret, raw) if signature is None else signature
    return client.post(
        url, data=raw, content_type="application/json", headers={SIGNATURE_HEADER: header}
    )


def delivery(**response_changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(DELIVERY)
    body["form_response"].update(response_changes)
    return body


def test_signature_is_what_typeform_sends() -> None:
    # Typeform's documented scheme, computed independently of the module.
    raw = b'{"event_type":"form_response"}'
    digest = hmac.new(SECRET.encode(), raw, hashlib.sha256).digest()
    assert sign(SECRET, raw) == "sha256=" + base64.b64encode(digest).decode()


def test_signed_delivery_files_one_issue_with_the_mapped_fields(
    typeform_client: FlaskClient, tracker: FakeTracker
) -> None:
    answer = post(typeform_client, DELIVERY)
    assert answer.status_code == 201, answer.get_json()
    [issue] = tracker.issues["acme/mobile"]
    assert issue.title == "Dark mode"
    assert issue.body.startswith("Easier on the eyes at night")
    # Other answers follow, headed by the question people read, each by its type.
    assert "**Which platforms?**\niOS, Android, Web" in issue.body
    assert "**How often?**\nDaily" in issue.body
    assert "**How much do you need it?**\n9" in issue.body
    assert "**Are you a paying customer?**\nYes" in issue.body
    assert "**Needed by**\n2027-01-31" in issue.body
    # Contact details stay private.
    assert "ada@example.com" not in issue.body
    assert "+15551234567" not in issue.body
    assert "Phone" not in issue.body
    shown = typeform_client.get("/v1/apps/mobile/requests/1").get_json()
    assert shown["title"] == "Dark mode"


def test_a_replayed_delivery_files_nothing_new(
    typeform_client: FlaskClient, tracker: FakeTracker
) -> None:
    first = post(typeform_client, DELIVERY)
    second = post(typeform_client, DELIVERY)
    assert first.status_code == second.status_code == 201
    assert first.get_json()["id"] == second.get_json()["id"]
    assert len(tracker.issues["acme/mobile"]) == 1
    assert tracker.creates == 1


@pytest.mark.parametrize(
    "signature",
    ["", "sha256=", "sha256=AAAA", "sha1=abc", "not a signature", sign("other-secret", b"{}")],
)
def test_a_wrong_or_missing_signature_is_401_and_files_nothing(
    typeform_client: FlaskClient, tracker: FakeTracker, signature: str
) -> None:
    answer = post(typeform_client, DELIVERY, signature=signature)
    assert answer.status_code == 401
    assert error_code(answer) == "unauthorized"
    assert not tracker.issues.get("acme/mobile")


def test_a_body_changed_after_signing_is_401(typeform_client: FlaskClient) -> None:
    raw = json.dumps(DELIVERY).encode()
    signature = sign(SECRET, raw)
    tampered = raw.replace(b"Dark mode", b"Dark mods")
    assert post(typeform_client, tampered, signature=signature).status_code == 401


def test_an_unanswered_title_field_is_422_naming_it(typeform_client: FlaskClient) -> None:
    answers = [a for a in DELIVERY["form_response"]["answers"] if a["field"]["ref"] != "idea"]
    answer = post(typeform_client, delivery(answers=answers))
    assert answer.status_code == 422
    body = answer.get_json()["error"]
    assert "idea" in body["message"]
    assert list(body["fields"]) == ["form_response.answers.idea"]


def test_malformed_delivery_is_422_not_500(typeform_client: FlaskClient) -> None:
    answer = post(typeform_client, {"event_type": "form_response", "form_response": {}})
    assert answer.status_code == 422
    assert "form_response.token" in answer.get_json()["error"]["fields"]


def test_an_app_without_a_typeform_secret_is_403(
    make_settings: Callable[..., Settings], tmp_path: Path, tracker: FakeTracker
) -> None:
    rt = build_runtime(
        make_settings(TYPEFORM_CONFIG),
        store=SQLiteStore(tmp_path / "index.db"),
        tracker=tracker,
        queue=RecordingQueue(),
    )
    flask_app = create_app(rt.settings, rt)
    try:
        answer = post(flask_app.test_client(), DELIVERY)
    finally:
        flask_app.extensions["featurebridge.inline"].shutdown()
    assert answer.status_code == 403


def test_without_an_email_mapping_the_first_email_answer_is_private_contact(
    make_settings: Callable[..., Settings],
    tmp_path: Path,
    tracker: FakeTracker,
) -> None:
    config = TYPEFORM_CONFIG.replace('email = "contact"\n', "")
    store = SQLiteStore(tmp_path / "index.db")
    rt = build_runtime(
        make_settings(config, MOBILE_TYPEFORM_SECRET=SECRET),
        store=store,
        tracker=tracker,
        queue=RecordingQueue(),
    )
    flask_app = create_app(rt.settings, rt)
    try:
        answer = post(flask_app.test_client(), DELIVERY)
    finally:
        flask_app.extensions["featurebridge.inline"].shutdown()
    assert answer.status_code == 201
    [issue] = tracker.issues["acme/mobile"]
    assert "ada@example.com" not in issue.body
    submission = store.get_submission(answer.get_json()["id"])
    assert submission is not None
    assert submission.content.email == "ada@example.com"
