"""``GET /v1/apps``: which apps a caller may read; and a request shown with its analysis."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from bridge.app import build_runtime, create_app
from bridge.domain import AnalysisRecord
from bridge.settings import Settings
from bridge.stores.sqlite import SQLiteStore
from tests.fakes import FakeClock, FakeTracker, RecordingQueue
from tests.voter_tokens import MOBILE_SECRET, WEB_SECRET, mint

OPERATOR = {"Authorization": "Bearer operator-secret"}

CONFIG = """
[[apps]]
id = "web"
name = "Acme Web"
repo = "acme/web"
labels = ["feature-request"]
public = true

[[apps]]
id = "mobile"
name = "Acme Mobile"
repo = "acme/mobile"
labels = ["feature-request"]
public = false
voter_secret_env = "MOBILE_VOTER_SECRET"

[[apps]]
id = "desk"
name = "Acme Desk"
repo = "acme/desk"
labels = ["feature-request"]
public = false
voter_secret_env = "DESK_VOTER_SECRET"
"""


@pytest.fixture
def apps_client(make_settings: Callable[..., Settings], tmp_path, clock: FakeClock) -> FlaskClient:
    settings = make_settings(
        CONFIG, MOBILE_VOTER_SECRET=MOBILE_SECRET, DESK_VOTER_SECRET=WEB_SECRET
    )
    runtime = build_runtime(
        settings,
        store=SQLiteStore(tmp_path / "index.db"),
        tracker=FakeTracker(clock),
        queue=RecordingQueue(),
        clock=clock,
    )
    return create_app(settings, runtime).test_client()


def ids(client: FlaskClient, **headers: str) -> list[str]:
    response = client.get("/v1/apps", headers=headers)
    assert response.status_code == 200
    return [app["id"] for app in response.get_json()["items"]]


def test_the_public_sees_public_apps_only(apps_client: FlaskClient) -> None:
    assert apps_client.get("/v1/apps").get_json() == {
        "items": [{"id": "web", "name": "Acme Web", "repo": "acme/web", "public": True}]
    }


def test_the_operator_sees_every_app_by_id(apps_client: FlaskClient) -> None:
    assert ids(apps_client, **OPERATOR) == ["desk", "mobile", "web"]


def test_a_voter_token_adds_its_own_app(apps_client: FlaskClient, clock: FakeClock) -> None:
    token = mint(MOBILE_SECRET, sub="user-1", iat=int(clock().timestamp()))
    assert ids(apps_client, **{"X-Featurebridge-Voter": token}) == ["mobile", "web"]


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Featurebridge-Voter": "not-a-token"},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Basic b3BlcmF0b3Itc2VjcmV0"},
    ],
)
def test_a_bad_token_sees_what_the_public_sees(
    apps_client: FlaskClient, headers: dict[str, str]
) -> None:
    assert ids(apps_client, **headers) == ["web"]


# ------------------------------------------------------------ one request, with its analysis

ANALYSIS = {
    "summary": "Dark mode for night shifts.",
    "category": "ux",
    "sentiment": "positive",
    "priority": 7,
    "priority_reason": "Asked for often.",
    "complexity": "M",
    "business_value": "high",
    "suggested_labels": [],
    "likely_duplicates": [{"number": 3, "reason": "Also a dark theme."}],
}


def test_a_request_is_shown_with_its_analysis(client: FlaskClient, runtime, clock) -> None:
    client.post("/v1/apps/mobile/requests", json={"title": "Dark mode"})
    assert client.get("/v1/apps/mobile/requests/1").get_json()["analysis"] is None
    record = AnalysisRecord(model_id="amazon.nova-micro-v1:0", analysed_at=clock(), fields=ANALYSIS)
    assert runtime.store.record_analysis("mobile", 1, record)
    shown = client.get("/v1/apps/mobile/requests/1").get_json()
    assert shown["analysis"] == {
        "model_id": "amazon.nova-micro-v1:0",
        "analysed_at": shown["analysis"]["analysed_at"],
        **ANALYSIS,
    }
    assert shown["analysis"]["analysed_at"].startswith(clock().date().isoformat())
    assert "analysis" not in client.get("/v1/apps/mobile/requests").get_json()["items"][0]


@pytest.mark.parametrize(
    "record",
    [
        AnalysisRecord(model_id="m", analysed_at=FakeClock()(), error="the answer was invalid"),
        AnalysisRecord(model_id="m", analysed_at=FakeClock()(), fields={"category": "ux"}),
    ],
    ids=["failed", "another-shape"],
)
def test_a_failed_or_unreadable_analysis_is_shown_as_none(
    client: FlaskClient, runtime, record: AnalysisRecord
) -> None:
    client.post("/v1/apps/mobile/requests", json={"title": "Dark mode"})
    runtime.store.record_analysis("mobile", 1, record)
    response = client.get("/v1/apps/mobile/requests/1")
    assert response.status_code == 200
    assert response.get_json()["analysis"] is None
