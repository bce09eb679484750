"""The Google Forms channel: signed posts from a form's Apps Script become requests."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.api.google_forms import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    form_content,
    sign,
    signing_string,
)
from bridge.app import build_runtime, create_app
from bridge.settings import GoogleFormsConfig, Settings
from bridge.stores.sqlite import SQLiteStore
from tests.conftest import CONFIG, error_code
from tests.fakes import FakeClock, FakeTracker, RecordingQueue

URL = "/v1/apps/mobile/google-forms"
SECRET = "form-secret"
SCRIPT = Path(__file__).resolve().parent.parent / "forms" / "google-apps-script.gs"

FORMS_CONFIG = CONFIG.replace(
    "[apps.status_labels]",
    """[apps.google_forms]
title = "What should we build?"
description = "Tell us more"
email = "Email (optional)"

[apps.status_labels]""",
)

ANSWERS: dict[str, object] = {
    "What should we build?": "Dark mode",
    "Tell us more": "Easier on the eyes at night",
    "Email (optional)": "ada@example.com",
    "Which platforms?": ["iOS", "Android"],
    "How often would you use it?": "Daily",
}


@pytest.fixture
def forms_client(
    make_settings: Callable[..., Settings], tmp_path: Path, tracker: FakeTracker, clock: FakeClock
) -> Any:
    """The app with the google_forms mapping and the mobile app's form secret set."""
    rt = build_runtime(
        make_settings(FORMS_CONFIG, MOBILE_FORM_SECRET=SECRET),
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
    body: dict[str, object] | bytes,
    *,
    clock: FakeClock,
    secret: str = SECRET,
    skew: int = 0,
    headers: dict[str, str] | None = None,
    url: str = URL,
) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    timestamp = str(int(clock.now.timestamp()) + skew)
    signed = {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(secret, timestamp, raw)}
    return client.post(
        url, data=raw, content_type="application/json", headers=signed | (headers or {})
    )


def response(response_id: str = "2_ABaOnud", **changes: object) -> dict[str, object]:
    return {"response_id": response_id, "answers": dict(ANSWERS), **changes}


# ------------------------------------------------------------------ filing


def test_signed_response_becomes_an_issue(
    forms_client: FlaskClient, tracker: FakeTracker, clock: FakeClock
) -> None:
    answer = post(forms_client, response(respondent_email="grace@example.com"), clock=clock)
    assert answer.status_code == 201
    body = answer.get_json()
    assert body["delivery"] == "delivered"
    assert body["number"] == 1
    assert answer.headers["Location"] == "/v1/apps/mobile/requests/1"
    [issue] = tracker.issues["acme/mobile"]
    assert issue.title == "Dark mode"
    assert "Easier on the eyes at night" in issue.body
    assert "**Which platforms?**\niOS, Android" in issue.body
    assert "**How often would you use it?**\nDaily" in issue.body
    assert "ada@example.com" not in issue.body
    assert "grace@example.com" not in issue.body
    assert "Email (optional)" not in issue.body
    assert body["id"] in issue.body
    shown = forms_client.get("/v1/apps/mobile/requests/1").get_json()
    assert shown["source"] == "google_forms"


def test_mapping_prefers_the_email_question_and_keeps_answer_order() -> None:
    questions = GoogleFormsConfig(title="T", description="D", email="E")
    content = form_content(
        {"Z": "last?", "T": " Title ", "E": "ada@example.com", "A": ["x", "y"], "D": "More"},
        "grace@example.com",
        questions,
        email_pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
        title_max=256,
    )
    assert content.title == "Title"
    assert content.description == "More\n\n**Z**\nlast?\n\n**A**\nx, y"
    assert content.email == "ada@example.com"


def test_an_email_answer_that_is_no_address_is_dropped_not_published() -> None:
    content = form_content(
        {"Title": "Sync", "Email": "not an address"},
        "grace@example.com",
        GoogleFormsConfig(email="Email"),
        email_pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
        title_max=256,
    )
    assert content.email == "grace@example.com"
    assert content.description == ""


def test_respondent_email_is_kept_private(
    forms_client: FlaskClient, tracker: FakeTracker, clock: FakeClock
) -> None:
    answers = {"What should we build?": "Widgets"}
    body = {"response_id": "r1", "answers": answers, "respondent_email": "grace@example.com"}
    assert post(forms_client, body, clock=clock).status_code == 201
    assert "grace@example.com" not in tracker.issues["acme/mobile"][0].body


# ------------------------------------------------------------------ signatures


@pytest.mark.parametrize("skew", [-301, 301, -86_400, 10**9])
def test_stale_or_future_timestamp_is_401(
    forms_client: FlaskClient, clock: FakeClock, tracker: FakeTracker, skew: int
) -> None:
    answer = post(forms_client, response(), clock=clock, skew=skew)
    assert answer.status_code == 401
    assert error_code(answer) == "unauthorized"
    assert tracker.issues == {}


@pytest.mark.parametrize("skew", [-300, 300])
def test_timestamp_within_five_minutes_is_accepted(
    forms_client: FlaskClient, clock: FakeClock, skew: int
) -> None:
    assert post(forms_client, response(), clock=clock, skew=skew).status_code == 201


@pytest.mark.parametrize(
    "headers",
    [
        {SIGNATURE_HEADER: "sha256=" + "0" * 64},
        {SIGNATURE_HEADER: "sha1=abc"},
        {SIGNATURE_HEADER: "sha256=é"},
        {SIGNATURE_HEADER: ""},
        {TIMESTAMP_HEADER: ""},
        {TIMESTAMP_HEADER: "1.5"},
        {TIMESTAMP_HEADER: "-1"},
    ],
)
def test_bad_signature_headers_are_401(
    forms_client: FlaskClient, clock: FakeClock, headers: dict[str, str]
) -> None:
    answer = post(forms_client, response(), clock=clock, headers=headers)
    assert answer.status_code == 401


def test_signature_under_another_secret_is_401(forms_client: FlaskClient, clock: FakeClock) -> None:
    assert post(forms_client, response(), clock=clock, secret="other").status_code == 401


def test_signature_of_another_body_is_401(forms_client: FlaskClient, clock: FakeClock) -> None:
    timestamp = str(int(clock.now.timestamp()))
    signature = sign(SECRET, timestamp, json.dumps(response()).encode())
    answer = forms_client.post(
        URL,
        data=json.dumps(response("another")).encode(),
        content_type="application/json",
        headers={TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: signature},
    )
    assert answer.status_code == 401


def test_missing_headers_are_401(forms_client: FlaskClient) -> None:
    answer = forms_client.post(URL, json=response())
    assert answer.status_code == 401
    assert TIMESTAMP_HEADER in answer.get_json()["error"]["message"]


def test_app_without_a_form_secret_is_403(client: FlaskClient, clock: FakeClock) -> None:
    # The default settings name MOBILE_FORM_SECRET but do not set it; internal names none.
    assert post(client, response(), clock=clock).status_code == 403
    internal = post(client, response(), clock=clock, url="/v1/apps/internal/google-forms")
    assert internal.status_code == 403
    assert error_code(internal) == "forbidden"


def test_unknown_app_is_404(forms_client: FlaskClient, clock: FakeClock) -> None:
    answer = post(forms_client, response(), clock=clock, url="/v1/apps/nope/google-forms")
    assert answer.status_code == 404


# ------------------------------------------------------------------ idempotency


def test_repeated_response_id_files_one_issue(
    forms_client: FlaskClient, tracker: FakeTracker, clock: FakeClock
) -> None:
    first = post(forms_client, response(), clock=clock)
    clock.advance(60)  # a retry is signed again, at another time
    second = post(forms_client, response(), clock=clock)
    assert first.status_code == second.status_code == 201
    assert first.get_json() == second.get_json()
    assert len(tracker.issues["acme/mobile"]) == 1
    assert tracker.creates == 1


def test_response_id_with_another_body_is_409(forms_client: FlaskClient, clock: FakeClock) -> None:
    assert post(forms_client, response(), clock=clock).status_code == 201
    changed = response(answers={"What should we build?": "Light mode"})
    answer = post(forms_client, changed, clock=clock)
    assert answer.status_code == 409
    assert "response_id" in answer.get_json()["error"]["fields"]


def test_response_id_does_not_collide_with_api_idempotency_keys(
    forms_client: FlaskClient, clock: FakeClock
) -> None:
    api = forms_client.post(
        "/v1/apps/mobile/requests", json={"title": "Other"}, headers={"Idempotency-Key": "r-7"}
    )
    assert api.status_code == 201
    form = post(forms_client, response("r-7"), clock=clock)
    assert form.status_code == 201
    assert form.get_json()["id"] != api.get_json()["id"]


# ------------------------------------------------------------------ client errors


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"answers": {"What should we build?": "x"}}, "response_id"),
        ({"response_id": "r", "answers": {"What should we build?": 3}}, "answers"),
        ({"response_id": "r", "answers": []}, "answers"),
        ({"response_id": "has space", "answers": {"What should we build?": "x"}}, "response_id"),
        ({"response_id": "r", "answers": {"What should we build?": "x"}, "extra": 1}, "extra"),
        (
            {
                "response_id": "r",
                "answers": {"What should we build?": "x"},
                "respondent_email": "x",
            },
            "respondent_email",
        ),
        ({"response_id": "r", "answers": {}}, "answers.What should we build?"),
        ({"response_id": "r", "answers": {"What should we build?": "  "}}, "answers.What"),
        ({"response_id": "r", "answers": {"What should we build?": []}}, "answers.What"),
        ({"response_id": "r", "answers": {"What should we build?": "x" * 257}}, "answers.What"),
    ],
)
def test_bad_shapes_are_422_naming_the_field(
    forms_client: FlaskClient, clock: FakeClock, body: dict[str, object], field: str
) -> None:
    answer = post(forms_client, body, clock=clock)
    assert answer.status_code == 422, answer.get_json()
    assert error_code(answer) == "validation_failed"
    assert any(name.startswith(field) for name in answer.get_json()["error"]["fields"])


def test_missing_title_answer_names_the_question(
    forms_client: FlaskClient, clock: FakeClock
) -> None:
    answer = post(forms_client, {"response_id": "r", "answers": {"Other": "x"}}, clock=clock)
    assert answer.get_json()["error"]["fields"] == {
        "answers.What should we build?": "the title question 'What should we build?' has no answer"
    }


@pytest.mark.parametrize("raw", [b'{"response_id": ', b"[1]", b"\xff\xfe", b'{"a": NaN}'])
def test_malformed_json_is_400(forms_client: FlaskClient, clock: FakeClock, raw: bytes) -> None:
    answer = post(forms_client, raw, clock=clock)
    assert answer.status_code == 400
    assert error_code(answer) == "bad_request"


def test_body_over_256_kib_is_413(forms_client: FlaskClient, clock: FakeClock) -> None:
    body = response(answers={"What should we build?": "x", "Long": "y" * 270_000})
    assert post(forms_client, body, clock=clock).status_code == 413


answer_values = st.one_of(
    st.text(max_size=40), st.lists(st.text(max_size=20), max_size=4), st.integers(), st.none()
)
bodies = st.one_of(
    st.fixed_dictionaries(
        {
            "response_id": st.text(max_size=30),
            "answers": st.dictionaries(
                st.sampled_from(["What should we build?", "Tell us more", "Email (optional)"])
                | st.text(max_size=30),
                answer_values,
                max_size=6,
            ),
        },
        optional={"respondent_email": st.text(max_size=30) | st.emails()},
    ),
    st.dictionaries(st.text(max_size=10), answer_values, max_size=4),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=bodies)
def test_random_signed_bodies_never_produce_a_500(
    forms_client: FlaskClient, clock: FakeClock, body: dict[str, object]
) -> None:
    answer = post(forms_client, body, clock=clock)
    assert answer.status_code < 500, answer.get_json()
    assert answer.status_code in {201, 202, 400, 409, 422}


# ------------------------------------------------------------------ the Apps Script


def test_script_uses_the_servers_headers_and_signing_string() -> None:
    script = SCRIPT.read_text(encoding="utf-8")
    assert f'"{TIMESTAMP_HEADER}": timestamp' in script
    signed = f'"{SIGNATURE_HEADER}": "sha256=" + featurebridgeSign_(secret, timestamp + "." + body)'
    assert signed in script
    assert signing_string("123", b"{}") == b"123.{}"
    assert re.search(r"UrlFetchApp\.fetch\(pending\.url, \{[^}]*payload: body,", script, re.S)
    assert "Utilities.computeHmacSha256Signature" in script
    assert "muteHttpExceptions: true" in script
    assert 'getProperty("FEATUREBRIDGE_FORM_SECRET")' in script
    assert '"/google-forms"' in script
    assert "function onFormSubmit(e)" in script


NODE_HARNESS = """
const crypto = require("crypto");
const fs = require("fs");
let sent = null;
globalThis.PropertiesService = {getScriptProperties: () => ({getProperty: (name) => ({
  FEATUREBRIDGE_URL: "https://feedback.example.com/", FEATUREBRIDGE_FORM_SECRET: %(secret)s,
})[name]})};
globalThis.Utilities = {
  Charset: {UTF_8: "utf8"},
  computeHmacSha256Signature: (value, key, charset) => Array.from(
    new Int8Array(crypto.createHmac("sha256", Buffer.from(key, charset))
      .update(Buffer.from(value, charset)).digest())),
};
globalThis.UrlFetchApp = {fetch: (url, options) => {
  sent = {url, options};
  return {getResponseCode: () => 201, getContentText: () => "{}"};
}};
const item = (title, value) => ({
  getItem: () => ({getTitle: () => title}), getResponse: () => value,
});
eval(fs.readFileSync(%(script)s, "utf8"));
onFormSubmit({response: {
  getId: () => "2_ABaOnud",
  getRespondentEmail: () => "",
  getItemResponses: () => [
    item("What should we build?", "Dark mode ✨"),
    item("Which platforms?", ["iOS", "Android"]),
    item("Grid", [["a", "b"], null]),
    item("", "untitled"),
  ],
}});
process.stdout.write(JSON.stringify(sent));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_script_under_node_posts_what_the_server_accepts(
    forms_client: FlaskClient, clock: FakeClock, tracker: FakeTracker
) -> None:
    harness = NODE_HARNESS % {"secret": json.dumps(SECRET), "script": json.dumps(str(SCRIPT))}
    result = subprocess.run(
        ["node", "-e", harness],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    sent = json.loads(result.stdout)
    assert sent["url"] == "https://feedback.example.com/v1/apps/mobile/google-forms"
    options = sent["options"]
    assert options["muteHttpExceptions"] is True
    body = json.loads(options["payload"])
    assert body == {
        "response_id": "2_ABaOnud",
        "answers": {
            "What should we build?": "Dark mode ✨",
            "Which platforms?": ["iOS", "Android"],
            "Grid": ["a, b", ""],
            "Question 4": "untitled",
        },
    }
    headers = options["headers"]
    clock.now = datetime.fromtimestamp(int(headers[TIMESTAMP_HEADER]), tz=UTC)
    answer = forms_client.post(
        URL, data=options["payload"].encode(), content_type=options["contentType"], headers=headers
    )
    assert answer.status_code == 201, answer.get_json()
    assert tracker.issues["acme/mobile"][0].title == "Dark mode ✨"


RETRY_HARNESS = """
const crypto = require("crypto");
const fs = require("fs");
const [statePath, step, reply, now] = process.argv.slice(1);
const state = JSON.parse(fs.readFileSync(statePath, "utf8"));
const props = Object.assign({
  FEATUREBRIDGE_URL: "https://feedback.example.com", FEATUREBRIDGE_FORM_SECRET: %(secret)s,
}, state.props);
Date.now = () => Number(now);
globalThis.PropertiesService = {getScriptProperties: () => ({
  getProperty: (name) => props[name] ?? null,
  getProperties: () => Object.assign({}, props),
  setProperty: (name, value) => { props[name] = String(value); },
  deleteProperty: (name) => { delete props[name]; },
})};
globalThis.Utilities = {
  Charset: {UTF_8: "utf8"},
  computeHmacSha256Signature: (value, key, charset) => Array.from(
    new Int8Array(crypto.createHmac("sha256", Buffer.from(key, charset))
      .update(Buffer.from(value, charset)).digest())),
};
const sent = [];
globalThis.UrlFetchApp = {fetch: (url, options) => {
  sent.push({url, options});
  if (reply === "unreachable") throw new Error("Address unavailable");
  return {getResponseCode: () => Number(reply), getContentText: () => "{}"};
}};
console.warn = console.error = () => {};
eval(fs.readFileSync(%(script)s, "utf8"));
if (step === "submit") {
  onFormSubmit({response: {
    getId: () => "2_ABaOnud", getRespondentEmail: () => "",
    getItemResponses: () => [{getItem: () => ({getTitle: () => "What should we build?"}),
      getResponse: () => "Dark mode"}],
  }});
} else {
  featurebridgeRetry();
}
delete props.FEATUREBRIDGE_URL;
delete props.FEATUREBRIDGE_FORM_SECRET;
fs.writeFileSync(statePath, JSON.stringify({props}));
process.stdout.write(JSON.stringify(sent));
"""


def run_script(state: Path, step: str, reply: str, now: datetime) -> list[dict[str, Any]]:
    """Runs the script once under node (a form submit or a trigger run); fetch answers reply."""
    harness = RETRY_HARNESS % {"secret": json.dumps(SECRET), "script": json.dumps(str(SCRIPT))}
    millis = str(int(now.timestamp() * 1000))
    result = subprocess.run(
        ["node", "-e", harness, str(state), step, reply, millis],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    sent: list[dict[str, Any]] = json.loads(result.stdout)
    return sent


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_script_keeps_a_failed_post_and_replays_it_signed_anew(
    forms_client: FlaskClient, clock: FakeClock, tracker: FakeTracker, tmp_path: Path
) -> None:
    state = tmp_path / "state.json"
    state.write_text('{"props": {}}')
    start = clock.now
    minute = 60
    assert len(run_script(state, "submit", "unreachable", start)) == 1
    assert run_script(state, "retry", "201", start) == []  # not yet: the first delay is a minute
    assert len(run_script(state, "retry", "503", start + timedelta(seconds=minute))) == 1
    assert len(run_script(state, "retry", "429", start + timedelta(seconds=3 * minute))) == 1
    assert run_script(state, "retry", "201", start + timedelta(seconds=6 * minute)) == []
    later = start + timedelta(seconds=7 * minute)
    [replay] = run_script(state, "retry", "201", later)
    headers = replay["options"]["headers"]
    assert headers[TIMESTAMP_HEADER] == str(int(later.timestamp()))
    clock.now = later
    answer = forms_client.post(
        URL,
        data=replay["options"]["payload"].encode(),
        content_type=replay["options"]["contentType"],
        headers=headers,
    )
    assert answer.status_code == 201, answer.get_json()
    assert [issue.title for issue in tracker.issues["acme/mobile"]] == ["Dark mode"]
    assert run_script(state, "retry", "201", later + timedelta(hours=2)) == []
    assert json.loads(state.read_text())["props"] == {}


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_script_drops_a_post_the_bridge_refuses_for_good(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text('{"props": {}}')
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert len(run_script(state, "submit", "422", now)) == 1
    assert json.loads(state.read_text())["props"] == {}
    assert run_script(state, "retry", "201", now + timedelta(hours=1)) == []
