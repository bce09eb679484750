"""Health, the OpenAPI description, and the never-a-500 guarantee."""

from __future__ import annotations

import json
import string
from collections.abc import Callable

import jsonschema_rs
import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from pydantic import ValidationError

from bridge.app import build_runtime, create_app
from bridge.ports import StoreError
from bridge.runtime import Runtime
from bridge.settings import Settings
from bridge.voters import ANONYMOUS_ID_PATTERN
from tests.fakes import RecordingQueue

OPERATOR = {"Authorization": "Bearer operator-secret"}


def test_health_reports_each_dependency(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["index"] == {"ok": True}
    assert body["github"]["configured"] is True
    assert body["queue"] == {
        "depth": 0,
        "pending_submissions": 0,
        "oldest_pending_age_seconds": None,
    }


class BrokenStore:
    def ping(self) -> None:
        raise StoreError("database is locked")

    def similar_mode(self) -> str:
        return "fts"


def test_health_is_503_only_when_the_index_is_down(runtime: Runtime) -> None:
    broken = build_runtime(
        runtime.settings,
        store=BrokenStore(),
        tracker=runtime.tracker,
        queue=RecordingQueue(),  # type: ignore[arg-type]
    )
    client = create_app(runtime.settings, broken).test_client()
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "down"
    assert body["index"] == {"ok": False, "detail": "the index is unavailable"}
    operator = client.get("/healthz", headers=OPERATOR).get_json()
    assert operator["index"] == {"ok": False, "detail": "database is locked"}


def test_public_health_names_no_internals(make_settings: Callable[..., Settings]) -> None:
    config = make_settings(
        GITHUB_APP_ID="424242", GITHUB_APP_PRIVATE_KEY_PATH="/srv/secret/app-key.pem"
    )
    client = create_app(config).test_client()
    public = client.get("/healthz")
    assert public.status_code == 200
    text = public.get_data(as_text=True)
    for internal in ("424242", "/srv/secret", "app-key.pem", "http", str(config.store_url)):
        assert internal not in text
    body = public.get_json()
    assert body["github"]["configured"] is False
    assert "GITHUB_TOKEN" in body["github"]["detail"]  # says what is missing, in words
    assert body["analysis"] == {"enabled": False}
    assert set(body["queue"]) == {"depth", "pending_submissions", "oldest_pending_age_seconds"}
    operator = client.get("/healthz", headers=OPERATOR).get_json()
    assert "app-key.pem" in operator["github"]["detail"]


def test_openapi_is_valid_3_1_and_describes_the_routes(client: FlaskClient, app: Flask) -> None:
    document = client.get("/openapi.json").get_json()
    validate(document)
    assert document["openapi"] == "3.1.0"
    post = document["paths"]["/v1/apps/{app}/requests"]["post"]
    body_schema = post["requestBody"]["content"]["application/json"]["schema"]
    submission = document["components"]["schemas"][body_schema["$ref"].rsplit("/", 1)[1]]
    assert submission["properties"]["title"]["maxLength"] == 256
    assert {"201", "202", "default"} <= set(post["responses"])
    listed = {p["name"] for p in document["paths"]["/v1/apps/{app}/requests"]["get"]["parameters"]}
    assert {"app", "status", "sort", "q", "limit", "cursor"} <= listed
    # Every documented route exists in the Flask app.
    rules = {
        rule.rule.replace("<app_id>", "{app}")
        .replace("<int:number>", "{number}")
        .replace("<submission_id>", "{id}")
        for rule in app.url_map.iter_rules()
    }
    assert set(document["paths"]) <= rules


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=300),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=20), children, max_size=5)
    ),
    max_leaves=30,
)
bodies = st.dictionaries(
    st.sampled_from(["title", "description", "email", "name", "metadata", "voter_token", "extra"])
    | st.text(max_size=10),
    json_values,
    max_size=7,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=bodies,
    content_type=st.sampled_from(
        ["application/json", "application/x-www-form-urlencoded", "text/plain", ""]
    ),
)
def test_random_bodies_never_produce_a_500(
    client: FlaskClient, body: dict[str, object], content_type: str
) -> None:
    data = (
        json.dumps(body)
        if content_type != "application/x-www-form-urlencoded"
        else "&".join(f"{k}={v}" for k, v in body.items())
    )
    response = client.post("/v1/apps/mobile/requests", data=data, content_type=content_type or None)
    assert response.status_code < 500
    assert response.is_json
    if response.status_code >= 400:
        assert response.get_json()["error"]["code"]


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    params=st.dictionaries(
        st.sampled_from(["status", "sort", "q", "limit", "cursor"]),
        st.text(alphabet=string.printable, max_size=60),
        max_size=5,
    )
)
def test_random_query_parameters_never_produce_a_500(
    client: FlaskClient, params: dict[str, str]
) -> None:
    response = client.get("/v1/apps/mobile/requests", query_string=params)
    assert response.status_code in (200, 400)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=st.binary(max_size=2000))
def test_random_bytes_never_produce_a_500(client: FlaskClient, raw: bytes) -> None:
    response = client.post("/v1/apps/mobile/requests", data=raw, content_type="application/json")
    assert response.status_code < 500


def test_nothing_is_served_from_the_working_directory(client: FlaskClient) -> None:
    response = client.get("/static/featurebridge.example.toml")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_openapi_documents_every_route_but_the_widget_and_pages(
    client: FlaskClient, app: Flask
) -> None:
    document = client.get("/openapi.json").get_json()
    routes = {
        (
            rule.rule.replace("<app_id>", "{app}")
            .replace("<int:number>", "{number}")
            .replace("<submission_id>", "{id}"),
            method,
        )
        for rule in app.url_map.iter_rules()
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
        if rule.rule not in ("/widget.js", "/widget/<lang>.json", "/openapi.json")
        and not rule.rule.startswith("/apps/")
    }
    documented = {
        (path, method.upper()) for path, item in document["paths"].items() for method in item
    }
    assert routes == documented


def test_openapi_states_what_the_service_enforces(client: FlaskClient) -> None:
    document = client.get("/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    # The shape the voter check takes (any other is 401), not merely 1-128 characters.
    assert schemas["VoteIn"]["properties"]["anonymous_id"]["pattern"] == ANONYMOUS_ID_PATTERN
    assert schemas["VoteIn"]["oneOf"] == [
        {"required": ["voter_token"]},
        {"required": ["anonymous_id"]},
    ]
    submit = document["paths"]["/v1/apps/{app}/requests"]["post"]
    key = next(p for p in submit["parameters"] if p["name"] == "Idempotency-Key")
    assert key["schema"]["pattern"] == "^[\\x21-\\x7e]{1,255}$"
    form = submit["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert "patternProperties" in form
    # A blank form field is an absent one: the form's email may be empty.
    assert (
        form["properties"]["email"]["pattern"]
        == "^$|" + schemas["SubmissionIn"]["properties"]["email"]["anyOf"][0]["pattern"]
    )
    assert {"400", "401", "404", "409", "413", "415", "422", "429", "503"} <= set(
        submit["responses"]
    )
    listing = document["paths"]["/v1/apps/{app}/requests"]["get"]
    cursor = next(p for p in listing["parameters"] if p["name"] == "cursor")
    assert "pattern" in str(cursor["schema"])
    hook = document["paths"]["/github/webhooks"]["post"]
    assert {p["name"] for p in hook["parameters"] if p["required"]} == {
        "X-GitHub-Event",
        "X-GitHub-Delivery",
        "X-Hub-Signature-256",
    }
    number = document["paths"]["/v1/apps/{app}/requests/{number}"]["get"]["parameters"][1]
    assert number["schema"]["maximum"] == 2**63 - 1
    similar = document["paths"]["/v1/apps/{app}/similar"]["get"]
    assert {p["name"]: p["required"] for p in similar["parameters"] if p["in"] == "query"} == {
        "title": True,
        "description": False,
        "limit": False,
    }
    typeform = document["paths"]["/v1/apps/{app}/typeform"]["post"]
    [signature] = [p for p in typeform["parameters"] if p["name"] == "Typeform-Signature"]
    assert signature["required"]
    assert {"401", "403", "404", "409", "413", "415", "422"} <= set(typeform["responses"])
    export = document["paths"]["/v1/export"]["get"]["responses"]["200"]["content"]
    assert export["application/jsonl"]["schema"]["type"] == "array"
    assert export["application/jsonl"]["schema"]["items"] == {
        "$ref": "#/components/schemas/ExportRow"
    }


def test_a_blank_form_vote_field_is_an_absent_one(client: FlaskClient) -> None:
    document = client.get("/openapi.json").get_json()
    vote = document["paths"]["/v1/apps/{app}/requests/{number}/votes"]["post"]["requestBody"]
    form = vote["content"]["application/x-www-form-urlencoded"]["schema"]
    body = {"anonymous_id": "browser-1234", "voter_token": ""}
    assert jsonschema_rs.validator_for(form).is_valid(body)
    assert not jsonschema_rs.validator_for(form).is_valid({**body, "voter_token": "t"})
    client.post("/v1/apps/mobile/requests", json={"title": "Dark mode"})
    number = client.get("/v1/apps/mobile/requests").get_json()["items"][0]["number"]
    response = client.post(
        f"/v1/apps/mobile/requests/{number}/votes",
        data="anonymous_id=browser-1234&voter_token=",
        content_type="application/x-www-form-urlencoded",
    )
    # Read as an anonymous vote (which this app does not take), not as a blank token.
    assert response.status_code == 403
    assert "anonymous votes" in response.get_json()["error"]["message"]


def test_a_blank_form_email_is_an_absent_one(client: FlaskClient) -> None:
    response = client.post(
        "/v1/apps/mobile/requests",
        data="title=Dark+mode&email=",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code in (201, 202), response.get_json()


# Python's str.isspace, Unicode White_Space and ECMA-262's WhiteSpace and LineTerminator.
SPACES = sorted(
    {chr(c) for c in range(0x3001) if chr(c).isspace()}
    | {"\u0085", "\u00a0", "\u1680", "\u2028", "\u2029", "\u202f", "\u205f", "\u3000"}
    | {"\ufeff", "\u200b", "\u180e"}
)


@pytest.mark.parametrize("space", SPACES, ids=lambda c: f"U+{ord(c):04X}")
def test_patterns_mean_the_same_to_the_service_and_to_json_schema(space: str) -> None:
    # jsonschema_rs is the validator schemathesis checks the OpenAPI's patterns with (ECMA-262).
    from bridge.api.detail_models import SimilarParams
    from bridge.api.write_models import SubmissionIn

    for model, body in (
        (SubmissionIn, {"title": "Dark mode", "email": f"a{space}b@example.com"}),
        (SubmissionIn, {"title": "Dark mode", "email": f"ab@exa{space}mple.com"}),
        (SubmissionIn, {"title": space}),
        (SubmissionIn, {"title": space * 3}),
        (SimilarParams, {"title": space}),
    ):
        schema = jsonschema_rs.validator_for(model.model_json_schema())
        try:
            model.model_validate(body)
            accepted = True
        except ValidationError:
            accepted = False
        assert accepted == schema.is_valid(body), (model.__name__, body)


def test_a_listing_cursor_is_the_documented_shape(client: FlaskClient) -> None:
    response = client.get("/v1/apps/mobile/requests", query_string={"cursor": "not-a-cursor"})
    assert response.status_code == 400
    assert "cursor" in response.get_json()["error"]["fields"]
