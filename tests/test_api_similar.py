"""GET /v1/apps/{app}/similar: likely duplicates of a draft, over the HTTP API."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

import pytest
from flask.testing import FlaskClient
from msgspec.structs import replace

from bridge.app import build_runtime, create_app
from bridge.domain import Status
from bridge.runtime import Runtime
from bridge.settings import Settings
from bridge.similar.terms import DESCRIPTION_SCAN
from tests.conftest import error_code
from tests.fakes import FakeClock, FakeTracker, RecordingQueue
from tests.store_contract import request
from tests.voter_tokens import MOBILE_SECRET, mint

URL = "/v1/apps/mobile/similar"


def _seed(runtime: Runtime, app: str = "mobile") -> None:
    store = runtime.store
    store.upsert_request(replace(request(1, app=app, title="Dark mode"), description="at night"))
    store.upsert_request(request(2, app=app, title="Export to PDF", status=Status.COMPLETED))
    duplicate = replace(request(3, app=app, title="Night theme"), duplicate_of=1)
    store.upsert_request(replace(duplicate, status=Status.DUPLICATE))


def test_similar_answers_items_best_first(client: FlaskClient, runtime: Runtime) -> None:
    _seed(runtime)
    response = client.get(f"{URL}?{urlencode({'title': 'dark theme at night'})}")
    assert response.status_code == 200
    items = response.get_json()["items"]
    assert [item["number"] for item in items] == [1]  # #3 is a duplicate of #1
    assert set(items[0]) == {"number", "title", "status", "url", "total_votes", "score"}
    assert 0 < items[0]["score"] <= 1


def test_closed_requests_come_with_their_status(client: FlaskClient, runtime: Runtime) -> None:
    _seed(runtime)
    [item] = client.get(f"{URL}?title=pdf").get_json()["items"]
    assert (item["number"], item["status"]) == (2, "completed")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("", "title"),
        ("title=", "title"),
        ("title=%20%20", "title"),
        ("title=" + "x" * 257, "title"),
        ("title=x&limit=0", "limit"),
        ("title=x&limit=11", "limit"),
        ("title=x&limit=five", "limit"),
        ("title=x&limit=99999999999999999999999", "limit"),
        ("title=x&description=" + "d" * (DESCRIPTION_SCAN + 1), "description"),
    ],
)
def test_bad_parameters_are_400(client: FlaskClient, query: str, field: str) -> None:
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 400
    assert error_code(response) == "bad_request"
    assert field in response.get_json()["error"]["fields"]


def test_query_syntax_in_a_draft_is_just_words(client: FlaskClient, runtime: Runtime) -> None:
    _seed(runtime)
    for title in ['"dark', "dark*", "NEAR(dark mode)", "-dark", "title:dark", "'); --"]:
        response = client.get(f"{URL}?{urlencode({'title': title, 'description': title})}")
        assert response.status_code == 200, title


@pytest.fixture
def private_client(
    make_settings: Callable[..., Settings], tracker: FakeTracker, clock: FakeClock
) -> tuple[FlaskClient, Runtime]:
    settings = make_settings(
        """
        [server.rate_limits]
        reads_per_minute = 3
        [[apps]]
        id = "mobile"
        name = "M"
        repo = "acme/mobile"
        labels = ["fr"]
        public = false
        voter_secret_env = "MOBILE_VOTER_SECRET"
        """,
        MOBILE_VOTER_SECRET=MOBILE_SECRET,
        FEATUREBRIDGE_ADMIN_TOKEN="operator-secret",
    )
    runtime = build_runtime(settings, tracker=tracker, queue=RecordingQueue(), clock=clock)
    return create_app(settings, runtime).test_client(), runtime


def test_private_app_needs_a_voter_token_or_the_operator(
    private_client: tuple[FlaskClient, Runtime], clock: FakeClock
) -> None:
    client, runtime = private_client
    _seed(runtime)
    token = mint(sub="u1", iat=int(clock().timestamp()))
    assert client.get(f"{URL}?title=dark").status_code == 404
    forged = mint("another-secret-of-at-least-32-bytes!!!", sub="u1", iat=int(clock().timestamp()))
    assert (
        client.get(f"{URL}?title=dark", headers={"X-Featurebridge-Voter": forged}).status_code
        == 404
    )
    voter = client.get(f"{URL}?title=dark", headers={"X-Featurebridge-Voter": token})
    assert [item["number"] for item in voter.get_json()["items"]] == [1]
    operator = client.get(f"{URL}?title=dark", headers={"Authorization": "Bearer operator-secret"})
    assert operator.status_code == 200


def test_similar_is_rate_limited_per_client(
    private_client: tuple[FlaskClient, Runtime], clock: FakeClock
) -> None:
    client, _ = private_client
    headers = {"X-Featurebridge-Voter": mint(sub="u1", iat=int(clock().timestamp()))}
    assert [client.get(f"{URL}?title=x", headers=headers).status_code for _ in range(3)] == [
        200,
        200,
        200,
    ]
    limited = client.get(f"{URL}?title=x", headers=headers)
    assert limited.status_code == 429
    assert "Retry-After" in limited.headers
    clock.advance(60)
    assert client.get(f"{URL}?title=x", headers=headers).status_code == 200


def test_health_says_how_similar_searches(client: FlaskClient) -> None:
    assert client.get("/healthz").get_json()["similar"] == "fts"
