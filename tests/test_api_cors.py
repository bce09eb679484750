"""CORS is answered per app from its allowed origins."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from bridge.runtime import Runtime
from tests.conftest import error_code

URL = "/v1/apps/mobile/requests"
ALLOWED = "https://app.acme.example"


def test_allowed_origin_is_echoed(client: FlaskClient) -> None:
    response = client.get(URL, headers={"Origin": ALLOWED})
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "Origin" in response.headers["Vary"]


def test_other_origin_gets_no_cors_headers(client: FlaskClient) -> None:
    response = client.get(URL, headers={"Origin": "https://evil.example"})
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers


def test_origin_of_one_app_is_not_allowed_for_another(client: FlaskClient) -> None:
    response = client.get(
        "/v1/apps/internal/requests",
        headers={"Origin": ALLOWED, "Authorization": "Bearer operator-secret"},
    )
    assert "Access-Control-Allow-Origin" not in response.headers


def test_preflight_from_allowed_origin(client: FlaskClient) -> None:
    response = client.options(
        URL,
        headers={
            "Origin": ALLOWED,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, idempotency-key",
        },
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "Idempotency-Key" in response.headers["Access-Control-Allow-Headers"]
    assert int(response.headers["Access-Control-Max-Age"]) > 0


def test_preflight_from_other_origin_is_refused(client: FlaskClient) -> None:
    response = client.options(
        URL, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response.headers
    assert response.get_json()["error"]["code"] == "forbidden"


def test_errors_carry_cors_headers_too(client: FlaskClient) -> None:
    response = client.post(
        URL, data=b"{", content_type="application/json", headers={"Origin": ALLOWED}
    )
    assert response.status_code == 400
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/v1/apps/mobile/requests", "GET, HEAD, OPTIONS, POST"),
        ("/v1/apps/mobile/requests/1", "GET, HEAD, OPTIONS"),
        ("/v1/apps/mobile/requests/1/votes", "DELETE, OPTIONS, POST"),
    ],
)
def test_options_and_preflight_list_exactly_the_paths_methods(
    client: FlaskClient, path: str, methods: str
) -> None:
    assert client.options(path).headers["Allow"] == methods
    preflight = client.options(
        path, headers={"Origin": ALLOWED, "Access-Control-Request-Method": "POST"}
    )
    assert preflight.headers["Access-Control-Allow-Methods"] == methods


def test_options_of_a_server_to_server_route_lists_its_methods(client: FlaskClient) -> None:
    allow = client.options("/v1/apps/mobile/google-forms").headers["Allow"]
    assert set(allow.split(", ")) == {"OPTIONS", "POST"}


SERVICE = "https://feedback.example.com"  # conftest's [server] public_url


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "http://localhost"])
@pytest.mark.parametrize(
    "body",
    [
        {"json": {"title": "Dark mode"}},
        {"data": {"title": "Dark mode"}},  # a form post from another site needs no preflight
        {"data": "title=Dark mode", "content_type": "text/plain"},
    ],
    ids=["json", "urlencoded", "text"],
)
def test_a_submission_from_a_foreign_origin_is_refused(
    client: FlaskClient, runtime: Runtime, origin: str, body: dict[str, Any]
) -> None:
    # http://localhost is the test client's own host: behind a proxy the request's
    # host is not the service's origin, public_url is.
    answer = client.post(URL, headers={"Origin": origin}, **body)
    assert answer.status_code == 403
    assert error_code(answer) == "forbidden"
    assert runtime.store.outbox_stats().pending == 0


@pytest.mark.parametrize("origin", [ALLOWED, SERVICE, None])
def test_a_submission_from_the_app_the_service_or_a_server_is_served(
    client: FlaskClient, origin: str | None
) -> None:
    headers = {"Origin": origin} if origin else {}
    answer = client.post(URL, data={"title": "Dark mode"}, headers=headers)
    assert answer.status_code in (201, 202), answer.get_json()
