"""Submitting, listing and showing requests over the HTTP API."""

from __future__ import annotations

import io
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from flask.testing import FlaskClient

from bridge.domain import Request, Source, Status
from bridge.ports import TrackerError
from bridge.runtime import Runtime
from bridge.stores.sqlite import SQLiteStore
from tests.conftest import error_code
from tests.fakes import FakeTracker, RecordingQueue

URL = "/v1/apps/mobile/requests"


def submit(client: FlaskClient, body: dict[str, object] | None = None, **kwargs: object):
    return client.post(URL, json=body if body is not None else {"title": "Dark mode"}, **kwargs)


# ------------------------------------------------------------------ submitting


def test_submission_becomes_an_issue_and_answers_201(
    client: FlaskClient, tracker: FakeTracker
) -> None:
    response = submit(
        client,
        {
            "title": "  Dark mode  ",
            "description": "At night",
            "email": "ada@example.com",
            "name": "Ada",
            "metadata": {"version": "2.1", "build": 42},
        },
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["delivery"] == "delivered"
    assert body["status"] == "open"
    assert body["number"] == 1
    assert body["url"] == "https://github.com/acme/mobile/issues/1"
    assert len(body["id"]) == 32
    assert response.headers["Location"] == "/v1/apps/mobile/requests/1"
    [issue] = tracker.issues["acme/mobile"]
    assert issue.title == "Dark mode"
    assert issue.labels == ("feature-request", "app:mobile")
    assert body["id"] in issue.body
    assert "ada@example.com" not in issue.body
    assert "Ada" not in issue.body


def test_delivered_request_is_listed_with_the_submitters_vote(client: FlaskClient) -> None:
    submit(client)
    shown = client.get(f"{URL}/1").get_json()
    assert shown["bridge_votes"] == 1
    assert shown["total_votes"] == 1
    assert shown["source"] == "api"
    assert "voted" not in shown
    assert client.get(URL).get_json()["items"][0]["number"] == 1


def test_urlencoded_form_with_metadata(client: FlaskClient, tracker: FakeTracker) -> None:
    response = client.post(
        URL,
        data="title=Offline+mode&description=Please&metadata%5Bplan%5D=pro",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 201
    assert "pro" in tracker.issues["acme/mobile"][0].body


def test_widget_origin_marks_the_source(client: FlaskClient) -> None:
    submit(client, headers={"Origin": "https://app.acme.example"})
    assert client.get(f"{URL}/1").get_json()["source"] == Source.WIDGET.value


def test_github_down_answers_202_and_queues(
    client: FlaskClient, tracker: FakeTracker, runtime: Runtime
) -> None:
    tracker.fail_next.append(TrackerError("GitHub 502"))
    response = submit(client)
    assert response.status_code == 202
    body = response.get_json()
    assert body == {"id": body["id"], "status": "open", "delivery": "queued"}
    assert isinstance(runtime.queue, RecordingQueue)
    # The failed inline attempt asks to come back after its backoff; the answer queues it too.
    assert {job.kind for job in runtime.queue.jobs} == {"deliver_submission"}
    assert {tuple(job.payload.items()) for job in runtime.queue.jobs} == {
        (("submission_id", body["id"]),)
    }
    assert sorted(delay > 0 for delay in runtime.queue.delays) == [False, True]
    # Queued submissions are not listed until they are on GitHub.
    assert client.get(URL).get_json()["items"] == []


def test_without_github_credentials_submissions_wait(make_settings, tmp_path) -> None:
    from bridge.app import create_app

    app = create_app(make_settings())
    response = app.test_client().post(URL, json={"title": "Works offline"})
    assert response.status_code == 202
    health = app.test_client().get("/healthz").get_json()
    assert health["github"]["configured"] is False
    assert "GITHUB_TOKEN" in health["github"]["detail"]
    assert health["queue"]["pending_submissions"] == 1


# ------------------------------------------------------------------ idempotency


def test_repeat_with_same_key_returns_the_same_submission(
    client: FlaskClient, tracker: FakeTracker
) -> None:
    headers = {"Idempotency-Key": "abc-123"}
    first = submit(client, headers=headers)
    again = submit(client, headers=headers)
    assert again.status_code == 201
    assert again.get_json() == first.get_json()
    assert tracker.creates == 1


def test_repeat_of_a_queued_submission_reports_its_current_state(
    client: FlaskClient, tracker: FakeTracker
) -> None:
    tracker.fail_next.append(TrackerError("GitHub 502"))
    headers = {"Idempotency-Key": "k1"}
    first = submit(client, headers=headers)
    assert first.status_code == 202
    again = submit(client, headers=headers)
    assert again.status_code == 202
    assert again.get_json()["id"] == first.get_json()["id"]


def test_same_key_in_json_and_form_is_the_same_body(client: FlaskClient) -> None:
    headers = {"Idempotency-Key": "k2"}
    first = submit(client, {"title": "Dark mode", "description": "x"}, headers=headers)
    again = client.post(URL, data={"title": "Dark mode", "description": "x"}, headers=headers)
    assert again.status_code == 201
    assert again.get_json()["id"] == first.get_json()["id"]


def test_key_reused_with_another_body_is_409(client: FlaskClient) -> None:
    headers = {"Idempotency-Key": "abc-123"}
    submit(client, headers=headers)
    response = submit(client, {"title": "Something else"}, headers=headers)
    assert response.status_code == 409
    assert error_code(response) == "conflict"
    assert "Idempotency-Key" in response.get_json()["error"]["fields"]


def test_idempotency_key_expires_after_a_day(client: FlaskClient, clock) -> None:
    headers = {"Idempotency-Key": "abc-123"}
    first = submit(client, headers=headers).get_json()
    clock.advance(timedelta(hours=24, seconds=1).total_seconds())
    later = submit(client, {"title": "Another"}, headers=headers)
    assert later.status_code == 201
    assert later.get_json()["id"] != first["id"]


@pytest.mark.parametrize("key", ["", "x" * 256, "with space", "naïve"])
def test_malformed_idempotency_key_is_400(client: FlaskClient, key: str) -> None:
    response = submit(client, headers={"Idempotency-Key": key})
    assert response.status_code == 400
    assert "Idempotency-Key" in response.get_json()["error"]["fields"]


# ------------------------------------------------------------------ client errors


@pytest.mark.parametrize(
    ("data", "content_type", "status", "code"),
    [
        (b'{"title": ', "application/json", 400, "bad_request"),
        (b"[1, 2]", "application/json", 400, "bad_request"),
        (b'{"title": NaN}', "application/json", 400, "bad_request"),
        (b"\xff\xfe", "application/json", 400, "bad_request"),
        (b"title=x", "text/plain", 415, "unsupported_media_type"),
        (b"<xml/>", "application/xml", 415, "unsupported_media_type"),
        (b"title=a&title=b", "application/x-www-form-urlencoded", 422, "validation_failed"),
    ],
)
def test_malformed_bodies(
    client: FlaskClient, data: bytes, content_type: str, status: int, code: str
) -> None:
    response = client.post(URL, data=data, content_type=content_type)
    assert response.status_code == status
    assert error_code(response) == code
    assert response.get_json()["error"]["message"]


def test_missing_content_type_is_415(client: FlaskClient) -> None:
    response = client.post(URL, data=b'{"title": "x"}')
    assert response.status_code == 415


def test_body_over_256_kib_is_413(client: FlaskClient) -> None:
    response = submit(client, {"title": "Big", "description": "x" * (257 * 1024)})
    assert response.status_code == 413
    assert error_code(response) == "payload_too_large"


def test_body_over_256_kib_without_length_is_413(client: FlaskClient) -> None:
    body = json.dumps({"title": "Big", "description": "x" * (257 * 1024)}).encode()

    response = client.post(
        URL,
        input_stream=io.BytesIO(body),
        content_type="application/json",
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "title"),
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 257}, "title"),
        ({"title": 5}, "title"),
        ({"title": "ok", "description": "x" * 60_001}, "description"),
        ({"title": "ok", "email": "not-an-email"}, "email"),
        ({"title": "ok", "name": "n" * 101}, "name"),
        ({"title": "ok", "metadata": {str(n): n for n in range(21)}}, "metadata"),
        ({"title": "ok", "metadata": {"k": "v" * 2100}}, "metadata"),
        ({"title": "ok", "metadata": {"nested": {"a": 1}}}, "metadata.nested"),
        ({"title": "ok", "metadata": {"flag": True}}, "metadata.flag"),
        ({"title": "ok", "metadata": []}, "metadata"),
        ({"title": "ok", "colour": "red"}, "colour"),
    ],
)
def test_field_limits_are_422_naming_the_field(
    client: FlaskClient, body: dict[str, object], field: str
) -> None:
    response = submit(client, body)
    assert response.status_code == 422
    assert error_code(response) == "validation_failed"
    fields = response.get_json()["error"]["fields"]
    assert any(name == field or name.startswith(field + ".") for name in fields), fields


def test_title_of_256_characters_after_trimming_is_accepted(client: FlaskClient) -> None:
    assert submit(client, {"title": "  " + "t" * 256 + "  "}).status_code == 201


def test_unknown_app_is_404(client: FlaskClient) -> None:
    response = client.post("/v1/apps/nope/requests", json={"title": "x"})
    assert response.status_code == 404
    assert error_code(response) == "not_found"
    assert client.get("/v1/apps/nope/requests").status_code == 404


def test_unknown_route_and_method_use_the_envelope(client: FlaskClient) -> None:
    assert error_code(client.get("/v1/nothing")) == "not_found"
    response = client.put(URL, json={})
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]


def test_submissions_are_rate_limited_per_client(make_settings, tmp_path, tracker, clock) -> None:
    from bridge.app import build_runtime, create_app

    settings = make_settings(
        """
        [server.rate_limits]
        submissions_per_hour = 2
        [[apps]]
        id = "mobile"
        name = "M"
        repo = "acme/mobile"
        labels = ["fr"]
        moderation = "none"  # the same text again is a repeat; this tests the rate limit
        """
    )
    runtime = build_runtime(settings, tracker=tracker, queue=RecordingQueue(), clock=clock)
    client = create_app(settings, runtime).test_client()
    assert [submit(client).status_code for _ in range(2)] == [201, 201]
    limited = submit(client)
    assert limited.status_code == 429
    assert error_code(limited) == "rate_limited"
    assert 0 < int(limited.headers["Retry-After"]) <= 3600
    other = client.post(URL, json={"title": "x"}, environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert other.status_code == 201
    clock.advance(3600)
    assert submit(client).status_code == 201


@pytest.mark.parametrize("moderation", ["none", "signals"])
def test_a_submission_delivered_at_once_is_two_index_writes(
    make_settings, tmp_path, tracker, clock, moderation: str
) -> None:
    # The rate and repeat counters, the submission and its first lease in one write;
    # then delivered and indexed.
    from bridge.app import build_runtime, create_app

    class CountingStore(SQLiteStore):
        writes = 0

        @contextmanager
        def _write(self) -> Iterator[sqlite3.Connection]:
            CountingStore.writes += 1
            with super()._write() as db:
                yield db

    settings = make_settings(
        f"""
        [[apps]]
        id = "mobile"
        name = "M"
        repo = "acme/mobile"
        labels = ["fr"]
        moderation = "{moderation}"
        """
    )
    store = CountingStore(tmp_path / "counted.db")
    runtime = build_runtime(
        settings, store=store, tracker=tracker, queue=RecordingQueue(), clock=clock
    )
    client = create_app(settings, runtime).test_client()
    before = CountingStore.writes
    response = submit(client, {"title": "Dark mode", "description": "At night"})
    assert response.status_code == 201
    assert CountingStore.writes - before == 2
    assert isinstance(runtime.queue, RecordingQueue)
    assert runtime.queue.jobs == []  # nothing left for the worker
    submission = store.get_submission(response.get_json()["id"])
    assert submission is not None
    assert (submission.attempts, submission.outcome_unknown) == (1, False)
    if moderation == "signals":  # the same text again is a repeat: held, in one write
        before = CountingStore.writes
        again = submit(client, {"title": "Dark mode", "description": "At night"})
        assert (again.status_code, again.get_json()["delivery"]) == (202, "held")
        assert CountingStore.writes - before == 1
        assert tracker.creates == 1


# ------------------------------------------------------------------ listing


def _seed(runtime: Runtime, count: int, app: str = "mobile") -> None:
    for number in range(1, count + 1):
        at = runtime.clock() - timedelta(hours=number)
        runtime.store.upsert_request(
            Request(
                app=app,
                number=number,
                title=f"Request {number}",
                status=Status.OPEN,
                url=f"https://github.com/acme/{app}/issues/{number}",
                labels=("feature-request",),
                source=Source.GITHUB,
                created_at=at,
                updated_at=at,
                github_thumbs_up=number % 5,
            )
        )


def test_listing_pages_through_everything_in_order(client: FlaskClient, runtime: Runtime) -> None:
    _seed(runtime, 45)
    numbers: list[int] = []
    votes: list[int] = []
    url = f"{URL}?limit=20"
    pages = 0
    while url:
        body = client.get(url).get_json()
        pages += 1
        numbers += [item["number"] for item in body["items"]]
        votes += [item["total_votes"] for item in body["items"]]
        url = f"{URL}?limit=20&cursor={body['next_cursor']}" if body["next_cursor"] else ""
    assert pages == 3
    assert sorted(numbers) == list(range(1, 46))
    assert votes == sorted(votes, reverse=True)


def test_new_sort_and_query(client: FlaskClient, runtime: Runtime) -> None:
    _seed(runtime, 5)
    newest = client.get(f"{URL}?sort=new&limit=2").get_json()["items"]
    assert [item["number"] for item in newest] == [1, 2]
    found = client.get(f"{URL}?q=request%203").get_json()["items"]
    assert [item["number"] for item in found] == [3]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("sort=best", "sort"),
        ("status=closed", "status"),
        ("cursor=%%%", "cursor"),
        ("cursor=eyJwIjoiWzEsMl0iLCJiIjoib3RoZXIifQ", "cursor"),
        ("q=" + "w" * 201, "q"),
    ],
)
def test_bad_query_parameters_are_400_naming_the_parameter(
    client: FlaskClient, query: str, field: str
) -> None:
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 400
    assert error_code(response) == "bad_request"
    assert field in response.get_json()["error"]["fields"]


def test_cursor_of_another_listing_is_refused(client: FlaskClient, runtime: Runtime) -> None:
    _seed(runtime, 5)
    cursor = client.get(f"{URL}?limit=2").get_json()["next_cursor"]
    response = client.get(f"{URL}?limit=2&sort=new&cursor={cursor}")
    assert response.status_code == 400
    assert "cursor" in response.get_json()["error"]["fields"]


def test_private_app_needs_the_operator_token(client: FlaskClient, runtime: Runtime) -> None:
    _seed(runtime, 2, app="internal")
    assert client.get("/v1/apps/internal/requests").status_code == 404
    assert client.get("/v1/apps/internal/requests/1").status_code == 404
    wrong = client.get("/v1/apps/internal/requests", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 404
    ok = client.get(
        "/v1/apps/internal/requests", headers={"Authorization": "Bearer operator-secret"}
    )
    assert ok.status_code == 200
    assert len(ok.get_json()["items"]) == 2


def test_missing_request_is_404(client: FlaskClient) -> None:
    response = client.get(f"{URL}/99")
    assert response.status_code == 404
    assert error_code(response) == "not_found"


def test_public_reads_are_rate_limited_per_client_but_not_for_the_operator(
    make_settings, tmp_path, tracker, clock
) -> None:
    from bridge.app import build_runtime, create_app

    settings = make_settings(
        """
        [server.rate_limits]
        reads_per_minute = 3
        [[apps]]
        id = "mobile"
        name = "M"
        repo = "acme/mobile"
        labels = ["fr"]
        public = true
        """
    )
    runtime = build_runtime(settings, tracker=tracker, queue=RecordingQueue(), clock=clock)
    client = create_app(settings, runtime).test_client()
    reads = [URL, f"{URL}/1", "/v1/apps/mobile/similar?title=dark"]
    assert [client.get(url).status_code for url in reads] == [200, 404, 200]
    limited = client.get(URL)
    assert limited.status_code == 429
    assert error_code(limited) == "rate_limited"
    assert 0 < int(limited.headers["Retry-After"]) <= 60
    operator = {"Authorization": "Bearer operator-secret"}
    assert client.get(URL, headers=operator).status_code == 200
    assert client.get(URL, environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 200
    clock.advance(60)
    assert client.get(URL).status_code == 200


def test_an_app_may_require_a_voter_token_to_submit(make_settings, tracker, clock) -> None:
    from bridge.app import build_runtime, create_app
    from tests.conftest import CONFIG
    from tests.voter_tokens import MOBILE_SECRET, mint

    config = CONFIG.replace("public = true\n", "public = true\nrequire_voter_token = true\n", 1)
    settings = make_settings(config, MOBILE_VOTER_SECRET=MOBILE_SECRET)
    runtime = build_runtime(settings, tracker=tracker, queue=RecordingQueue(), clock=clock)
    client = create_app(settings, runtime).test_client()
    refused = client.post(URL, json={"title": "Dark mode"})
    assert refused.status_code == 401
    assert refused.get_json()["error"]["fields"] == {"voter_token": "required by this app"}
    fin = client.post("/v1/apps/mobile/feedbackfin", json={"feedbackType": "idea", "message": "x"})
    assert fin.status_code == 401
    assert tracker.creates == 0
    token = mint(sub="user-1", iat=int(clock().timestamp()))
    assert client.post(URL, json={"title": "Dark mode", "voter_token": token}).status_code == 201
