"""The HTTP entry (``lambda/http_entry.py``) driven by real API Gateway HTTP API events.

Events are payload format 2.0 as API Gateway sends them (``tests/fixtures/apigw``):
lower-case headers with ``content-length``, cookies in their own array, the raw
query string beside the comma-joined parameters, and base64 bodies.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, Response, jsonify, request

from bridge.app import build_runtime
from bridge.domain import Source
from bridge.runtime import Runtime
from bridge.settings import Settings
from bridge.stores.sqlite import SQLiteStore
from tests.fakes import FakeClock, FakeTracker, RecordingQueue
from tests.lambda_support import (
    APIGW_FIXTURES,
    Entries,
    FakeContext,
    apigw_event,
    entries,  # noqa: F401
    raw_body,
    response_json,
)

# The secret tests/fixtures/apigw/webhook_issues_opened.json is signed with.
WEBHOOK_SECRET = "fixture-webhook-secret"

Invoke = Callable[..., dict[str, Any]]


@pytest.fixture
def runtime(
    make_settings: Callable[..., Settings], tmp_path: Path, tracker: FakeTracker, clock: FakeClock
) -> Runtime:
    return build_runtime(
        make_settings(GITHUB_WEBHOOK_SECRET=WEBHOOK_SECRET),
        store=SQLiteStore(tmp_path / "index.db"),
        tracker=tracker,
        queue=RecordingQueue(),
        clock=clock,
    )


@pytest.fixture
def invoke(entries: Entries, runtime: Runtime) -> Invoke:  # noqa: F811
    entries.common.use_runtime(runtime)

    def call(name: str, **changes: Any) -> dict[str, Any]:
        return entries.http.handler(apigw_event(name, **changes), FakeContext())

    return call


def header(response: dict[str, Any], name: str) -> str | None:
    value = response["headers"].get(name.lower())
    return None if value is None else str(value)


# ------------------------------------------------------------------ the real app


def test_healthz(invoke: Invoke) -> None:
    response = invoke("healthz")
    assert response["statusCode"] == 200
    assert header(response, "content-type") == "application/json"
    assert response["isBase64Encoded"] is False
    body = response_json(response)
    assert body["index"] == {"ok": True}
    assert body["queue"]["pending_submissions"] == 0


def test_json_submission_from_the_widget_is_delivered(
    invoke: Invoke, tracker: FakeTracker, runtime: Runtime
) -> None:
    response = invoke("submit_json")
    assert response["statusCode"] == 201, response["body"]
    body = response_json(response)
    assert body["delivery"] == "delivered"
    assert header(response, "location") == f"/v1/apps/mobile/requests/{body['number']}"
    # CORS comes from the service (the template sets no CorsConfiguration).
    assert header(response, "access-control-allow-origin") == "https://app.acme.example"
    [issue] = tracker.issues["acme/mobile"]
    assert issue.title == "Dark mode"
    assert "pro" in issue.body
    stored = runtime.store.get_request("mobile", body["number"])
    assert stored is not None
    assert stored.source is Source.WIDGET


def test_repeated_idempotency_key_returns_the_same_submission(
    invoke: Invoke, tracker: FakeTracker
) -> None:
    first = response_json(invoke("submit_json"))
    again = invoke("submit_json")
    assert again["statusCode"] == 201
    assert response_json(again)["id"] == first["id"]
    assert tracker.creates == 1


def test_urlencoded_submission(invoke: Invoke, tracker: FakeTracker) -> None:
    response = invoke("submit_form")
    assert response["statusCode"] == 201, response["body"]
    [issue] = tracker.issues["acme/mobile"]
    assert issue.title == "Offline mode"
    assert "On the train" in issue.body
    assert "pro" in issue.body


def test_base64_body_is_decoded(invoke: Invoke, tracker: FakeTracker) -> None:
    event = apigw_event("submit_base64")
    assert event["isBase64Encoded"] is True
    response = invoke("submit_base64")
    assert response["statusCode"] == 201, response["body"]
    [issue] = tracker.issues["acme/mobile"]
    assert issue.title == "Mode sombre – été"
    assert "Écran 🌙 la nuit" in issue.body


def test_listing_with_cookies_and_a_raw_query_string(invoke: Invoke) -> None:
    invoke("submit_json")
    invoke("submit_form")
    response = invoke("list_requests")
    assert response["statusCode"] == 200
    body = response_json(response)
    # q=dark%20mode arrives decoded; sort=new and limit=5 are honoured.
    assert [item["title"] for item in body["items"]] == ["Dark mode"]
    assert body["next_cursor"] is None
    assert header(response, "access-control-allow-origin") == "https://app.acme.example"


def test_cors_preflight_is_answered_by_the_service(invoke: Invoke) -> None:
    response = invoke("preflight")
    assert response["statusCode"] == 204
    assert header(response, "access-control-allow-origin") == "https://app.acme.example"
    assert "POST" in (header(response, "access-control-allow-methods") or "")
    assert "Idempotency-Key" in (header(response, "access-control-allow-headers") or "")


def test_preflight_from_a_foreign_origin_gets_no_cors(invoke: Invoke) -> None:
    response = invoke("preflight", headers={"origin": "https://evil.example"})
    assert response["statusCode"] == 403
    assert header(response, "access-control-allow-origin") is None


def test_webhook_signature_holds_over_the_lambda_path(invoke: Invoke, runtime: Runtime) -> None:
    response = invoke("webhook_issues_opened")
    assert response["statusCode"] == 200, response["body"]
    assert response_json(response) == {"ok": True, "applied": True}
    again = invoke("webhook_issues_opened")
    assert response_json(again) == {"ok": True, "applied": False}
    indexed = runtime.store.get_request("mobile", 7)
    assert indexed is not None
    assert indexed.source is Source.GITHUB


def test_webhook_with_an_altered_body_is_refused(invoke: Invoke) -> None:
    event = apigw_event("webhook_issues_opened")
    tampered = raw_body(event).replace(b"Widgets", b"Gadgets")
    response = invoke("webhook_issues_opened", body=tampered.decode())
    assert response["statusCode"] == 401
    assert response_json(response)["error"]["code"] == "unauthorized"


def test_oversize_body_is_413_not_500(invoke: Invoke) -> None:
    body = json.dumps({"title": "Big", "description": "x" * (257 * 1024)})
    response = invoke("submit_json", body=body, headers={"idempotency-key": "big-1"})
    assert response["statusCode"] == 413
    assert response_json(response)["error"]["code"] == "payload_too_large"


def test_rate_limit_counts_the_callers_source_ip(invoke: Invoke, runtime: Runtime) -> None:
    limit = runtime.settings.server.rate_limits.submissions_per_hour
    codes = [invoke("submit_form")["statusCode"] for _ in range(limit)]
    assert codes == [201] * limit
    refused = invoke("submit_form")
    assert refused["statusCode"] == 429
    assert header(refused, "retry-after")
    assert invoke("submit_form", source_ip="198.51.100.20")["statusCode"] == 201


def test_unknown_path_is_a_json_404(invoke: Invoke) -> None:
    response = invoke("healthz", path="/v1/nowhere")
    assert response["statusCode"] == 404
    assert response_json(response)["error"]["code"] == "not_found"


def test_every_fixture_with_a_body_carries_a_true_content_length() -> None:
    # Without content-length Flask sees an empty body; API Gateway always sends it.
    for path in sorted(APIGW_FIXTURES.glob("*.json")):
        event = json.loads(path.read_text("utf-8"))
        if "body" in event:
            assert int(event["headers"]["content-length"]) == len(raw_body(event)), path.name


# ------------------------------------------------------------------ what reaches WSGI


@pytest.fixture
def probe(entries: Entries) -> Callable[..., dict[str, Any]]:  # noqa: F811
    """The entry's Mangum + a2wsgi adapter around an app that echoes its WSGI request."""
    app = Flask("probe")

    @app.route("/<path:anything>", methods=["GET", "POST"])
    def echo(anything: str) -> Response:
        data = request.get_data()
        response = jsonify(
            path=request.path,
            args={key: request.args.getlist(key) for key in request.args},
            cookies=dict(request.cookies),
            remote_addr=request.remote_addr,
            scheme=request.scheme,
            host=request.host,
            content_type=request.content_type,
            body_sha256=hashlib.sha256(data).hexdigest(),
            github_event=request.headers.get("X-GitHub-Event"),
            signature=request.headers.get("X-Hub-Signature-256"),
        )
        response.set_cookie("seen", "1", httponly=True)
        response.set_cookie("theme", "light")
        return response

    adapter = entries.http.build_adapter(app)

    def call(name: str, **changes: Any) -> dict[str, Any]:
        return adapter(apigw_event(name, **changes), FakeContext())

    return call


def test_repeated_query_parameters_and_cookies_reach_flask(
    probe: Callable[..., dict[str, Any]],
) -> None:
    response = probe("list_requests")
    seen = response_json(response)
    assert seen["path"] == "/v1/apps/mobile/requests"
    assert seen["args"] == {
        "sort": ["new"],
        "limit": ["5"],
        "q": ["dark mode"],
        "label": ["ui", "a11y"],
    }
    assert seen["cookies"] == {"fb_session": "abc123", "theme": "dark"}
    assert seen["remote_addr"] == "203.0.113.7"
    assert seen["scheme"] == "https"
    assert seen["host"] == "abc123def4.execute-api.us-east-1.amazonaws.com"
    # Several Set-Cookie headers come back in payload 2.0's cookies array.
    assert sorted(cookie.split(";")[0] for cookie in response["cookies"]) == [
        "seen=1",
        "theme=light",
    ]


def test_webhook_body_reaches_flask_byte_for_byte(probe: Callable[..., dict[str, Any]]) -> None:
    event = apigw_event("webhook_issues_opened")
    body = raw_body(event)
    seen = response_json(probe("webhook_issues_opened"))
    assert seen["body_sha256"] == hashlib.sha256(body).hexdigest()
    assert seen["github_event"] == "issues"
    expected = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert seen["signature"] == expected
    assert seen["remote_addr"] == "140.82.115.10"


def test_base64_body_reaches_flask_decoded(probe: Callable[..., dict[str, Any]]) -> None:
    event = apigw_event("submit_base64")
    seen = response_json(probe("submit_base64"))
    assert seen["body_sha256"] == hashlib.sha256(raw_body(event)).hexdigest()
    assert seen["content_type"] == "application/json; charset=utf-8"


# ------------------------------------------------------------------ built from the environment


def test_entry_builds_its_runtime_from_the_environment_once(
    entries: Entries,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = tmp_path / "featurebridge.toml"
    config.write_text(
        '[[apps]]\nid = "mobile"\nname = "Acme Mobile"\nrepo = "acme/mobile"\n'
        'labels = ["feature-request"]\npublic = true\n',
        encoding="utf-8",
    )
    for name in (
        "GITHUB_TOKEN",
        "GITHUB_APP_ID",
        "GITHUB_APP_PRIVATE_KEY",
        "GITHUB_APP_PRIVATE_KEY_PATH",
        "FEATUREBRIDGE_QUEUE_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FEATUREBRIDGE_CONFIG", str(config))
    monkeypatch.setenv("FEATUREBRIDGE_STORE", f"sqlite:///{tmp_path / 'env.db'}")
    monkeypatch.setenv("FEATUREBRIDGE_ENV_FILE", str(tmp_path / "absent.env"))

    health = entries.http.handler(apigw_event("healthz"), FakeContext())
    assert health["statusCode"] == 200
    body = response_json(health)
    assert body["github"]["configured"] is False
    assert body["queue"]["depth"] is None  # no queue: the scheduled sweep delivers
    assert "FEATUREBRIDGE_QUEUE_URL is not set" in caplog.text

    built = entries.common.runtime()
    adapter = entries.http.adapter()
    submitted = entries.http.handler(apigw_event("submit_form"), FakeContext())
    assert submitted["statusCode"] == 202
    assert response_json(submitted)["delivery"] == "queued"
    assert entries.common.runtime() is built
    assert entries.http.adapter() is adapter
    assert built.store.outbox_stats().pending == 1


def test_behind_cloudfront_two_trusted_hops_count_the_viewer(
    entries: Entries,  # noqa: F811
    make_settings: Callable[..., Settings],
    tmp_path: Path,
    tracker: FakeTracker,
    clock: FakeClock,
) -> None:
    # CloudFront appends the viewer to X-Forwarded-For and API Gateway appends the edge
    # it came from (also sourceIp): with trusted_proxies = 2 the viewer is the client.
    from tests.conftest import CONFIG

    settings = make_settings(CONFIG.replace("[server]", "[server]\ntrusted_proxies = 2", 1))
    rt = build_runtime(
        settings,
        store=SQLiteStore(tmp_path / "cdn.db"),
        tracker=tracker,
        queue=RecordingQueue(),
        clock=clock,
    )
    entries.common.use_runtime(rt)
    edge = "130.176.1.1"

    def through_cloudfront(forwarded_for: str) -> int:
        event = apigw_event("submit_form", headers={"x-forwarded-for": f"{forwarded_for}, {edge}"})
        event["requestContext"]["http"]["sourceIp"] = edge
        return int(entries.http.handler(event, FakeContext())["statusCode"])

    limit = settings.server.rate_limits.submissions_per_hour
    assert [through_cloudfront("198.51.100.7") for _ in range(limit)] == [201] * limit
    assert through_cloudfront("198.51.100.7") == 429
    assert through_cloudfront("203.0.113.9") == 201  # another viewer of the same edge
    # What a viewer writes into X-Forwarded-For itself stays left of what CloudFront adds.
    assert through_cloudfront("203.0.113.50, 198.51.100.7") == 429
