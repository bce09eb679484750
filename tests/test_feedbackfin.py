"""The Feedback Fin receiver: the widget's own JSON becomes a request."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from bridge.api.feedbackfin import split_message
from bridge.api.google_forms import TITLE_MAX
from bridge.app import build_runtime, create_app
from bridge.settings import Settings
from bridge.stores.sqlite import SQLiteStore
from tests.conftest import CONFIG, error_code
from tests.fakes import FakeClock, FakeTracker, RecordingQueue

URL = "/v1/apps/mobile/feedbackfin"
ORIGIN = "https://app.acme.example"  # in the mobile app's allowed_origins


def widget_post(
    client: FlaskClient,
    *,
    origin: str | None = ORIGIN,
    feedback_type: str = "idea",
    message: str = "Dark mode\nEasier on the eyes at night.",
    **user: Any,
) -> Any:
    """What Feedback Fin sends: ``{...config.user, feedbackType, message, timestamp}``."""
    body = {**user, "feedbackType": feedback_type, "message": message, "timestamp": 1764763200123}
    headers = {} if origin is None else {"Origin": origin}
    return client.post(URL, json=body, headers=headers)


def test_an_idea_files_one_issue_titled_by_its_first_line(
    client: FlaskClient, tracker: FakeTracker
) -> None:
    answer = widget_post(client, email="ada@example.com", name="Ada Lovelace")
    assert answer.status_code == 201, answer.get_json()
    assert answer.headers["Access-Control-Allow-Origin"] == ORIGIN
    [issue] = tracker.issues["acme/mobile"]
    assert issue.title == "Dark mode"
    assert issue.body.startswith("Easier on the eyes at night.")
    assert "ada@example.com" not in issue.body
    assert "Ada Lovelace" not in issue.body
    shown = client.get("/v1/apps/mobile/requests/1").get_json()
    assert shown["source"] == "widget"


def test_the_same_post_twice_files_one_issue(client: FlaskClient, tracker: FakeTracker) -> None:
    first = widget_post(client)
    second = widget_post(client)
    assert first.status_code == second.status_code == 201
    assert first.get_json()["id"] == second.get_json()["id"]
    assert tracker.creates == 1


@pytest.mark.parametrize("feedback_type", ["issue", "other", "Idea"])
def test_other_feedback_types_are_answered_and_not_filed(
    client: FlaskClient, tracker: FakeTracker, feedback_type: str
) -> None:
    answer = widget_post(client, feedback_type=feedback_type)
    assert answer.status_code == 200
    assert answer.get_json()["filed"] is False
    assert repr(feedback_type) in answer.get_json()["message"]
    assert tracker.issues.get("acme/mobile", []) == []


def test_an_app_may_file_other_types(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    config = CONFIG.replace(
        "[apps.status_labels]", 'feedbackfin_types = ["idea", "issue"]\n\n[apps.status_labels]', 1
    )
    tracker = FakeTracker(FakeClock())
    rt = build_runtime(
        make_settings(config),
        store=SQLiteStore(tmp_path / "other.db"),
        tracker=tracker,
        queue=RecordingQueue(),
        clock=FakeClock(),
    )
    flask_app = create_app(rt.settings, rt)
    try:
        answer = widget_post(flask_app.test_client(), feedback_type="issue")
    finally:
        flask_app.extensions["featurebridge.inline"].shutdown()
    assert answer.status_code == 201, answer.get_json()
    assert len(tracker.issues["acme/mobile"]) == 1


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "https://app.acme.example:444"])
def test_a_foreign_origin_is_refused_and_files_nothing(
    client: FlaskClient, tracker: FakeTracker, origin: str
) -> None:
    answer = widget_post(client, origin=origin)
    assert answer.status_code == 403
    assert error_code(answer) == "forbidden"
    assert tracker.issues.get("acme/mobile", []) == []


def test_the_services_own_origin_may_post(client: FlaskClient, tracker: FakeTracker) -> None:
    answer = widget_post(client, origin="https://feedback.example.com")
    assert answer.status_code == 201, answer.get_json()


def test_the_preflight_allows_the_widgets_request(client: FlaskClient) -> None:
    answer = client.options(
        URL,
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert answer.status_code == 204
    assert answer.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "POST" in answer.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in answer.headers["Access-Control-Allow-Headers"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"feedbackType": "idea", "message": " \n  "}, "message"),
        ({"feedbackType": "idea", "message": ""}, "message"),
        ({"feedbackType": "idea"}, "message"),
        ({"message": "Dark mode"}, "feedbackType"),
        ({"feedbackType": "idea", "message": 7}, "message"),
        ({"feedbackType": "idea", "message": "Dark mode", "timestamp": "soon"}, "timestamp"),
    ],
)
def test_a_malformed_post_is_a_422_naming_the_field(
    client: FlaskClient, tracker: FakeTracker, body: dict[str, Any], field: str
) -> None:
    answer = client.post(URL, json=body, headers={"Origin": ORIGIN})
    assert answer.status_code == 422, answer.get_json()
    assert field in answer.get_json()["error"]["fields"]
    assert tracker.issues.get("acme/mobile", []) == []


def test_an_unknown_app_is_a_404(client: FlaskClient) -> None:
    answer = client.post("/v1/apps/nope/feedbackfin", json={"feedbackType": "idea", "message": "x"})
    assert answer.status_code == 404


def test_a_long_first_line_is_cut_at_a_word_and_kept_whole_below() -> None:
    line = "word " * 100
    title, description = split_message(line + "\nmore")
    assert len(title) <= TITLE_MAX
    assert title.endswith("…")
    assert not title[:-1].endswith(" ")
    assert description == (line + "\nmore").strip()


def test_a_short_message_is_all_title() -> None:
    assert split_message("  Dark mode  ") == ("Dark mode", "")
