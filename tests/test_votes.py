"""Voting over the API: voter tokens, anonymous ids, and the counts they move."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bridge.app import build_runtime, create_app
from bridge.domain import Request, Source, Status
from bridge.runtime import Runtime
from bridge.settings import Settings
from bridge.stores.sqlite import SQLiteStore
from tests.conftest import error_code
from tests.fakes import FakeClock, FakeTracker, RecordingQueue
from tests.voter_tokens import MOBILE_SECRET, WEB_SECRET, mint

CONFIG = """
[server]
voter_token_max_age = 3600

[[apps]]
id = "mobile"
name = "Acme Mobile"
repo = "acme/mobile"
labels = ["feature-request", "app:mobile"]
public = true
voter_secret_env = "MOBILE_VOTER_SECRET"
anonymous_votes = true
[apps.tier_weights]
pro = 3

[[apps]]
id = "web"
name = "Acme Web"
repo = "acme/web"
labels = ["feature-request", "app:web"]
public = true
voter_secret_env = "WEB_VOTER_SECRET"

[[apps]]
id = "staff"
name = "Acme Staff"
repo = "acme/staff"
labels = ["feature-request"]
public = false
voter_secret_env = "STAFF_VOTER_SECRET"
anonymous_votes = true
"""
STAFF_SECRET = "staff-voter-secret-of-at-least-32-bytes"
VOTES = "/v1/apps/mobile/requests/1/votes"


@pytest.fixture
def runtime(
    make_settings: Callable[..., Settings], tmp_path: Path, tracker: FakeTracker, clock: FakeClock
) -> Runtime:  # type: ignore[override]
    settings = make_settings(
        CONFIG,
        MOBILE_VOTER_SECRET=MOBILE_SECRET,
        WEB_VOTER_SECRET=WEB_SECRET,
        STAFF_VOTER_SECRET=STAFF_SECRET,
        FEATUREBRIDGE_ADMIN_TOKEN="operator-secret",
    )
    rt = build_runtime(
        settings,
        store=SQLiteStore(tmp_path / "v.db"),
        tracker=tracker,
        queue=RecordingQueue(),
        clock=clock,
    )
    for app, status, number in (
        ("mobile", Status.OPEN, 1),
        ("mobile", Status.COMPLETED, 2),
        ("web", Status.OPEN, 1),
        ("staff", Status.OPEN, 1),
    ):
        rt.store.upsert_request(
            Request(
                app=app,
                number=number,
                title=f"{app} {number}",
                status=status,
                url=f"https://github.com/acme/{app}/issues/{number}",
                labels=(),
                source=Source.GITHUB,
                created_at=clock(),
                updated_at=clock(),
                github_thumbs_up=2,
            )
        )
    return rt


@pytest.fixture
def app(runtime: Runtime) -> Iterator[Flask]:  # type: ignore[override]
    flask_app = create_app(runtime.settings, runtime)
    yield flask_app
    flask_app.extensions["featurebridge.inline"].shutdown()


def token(clock: FakeClock, **claims: object) -> str:
    return mint(**{"sub": "user-1", "iat": int(clock().timestamp()), **claims})


def test_vote_with_a_token_counts_once(
    client: FlaskClient, clock: FakeClock, runtime: Runtime
) -> None:
    body = {"voter_token": token(clock, tier="pro")}
    first = client.post(VOTES, json=body)
    assert first.status_code == 200
    assert first.get_json() == {
        "github_thumbs_up": 2,
        "bridge_votes": 1,
        "total_votes": 3,
        "voted": True,
    }
    assert client.post(VOTES, json=body).get_json()["bridge_votes"] == 1
    assert runtime.store.get_request("mobile", 1).weighted_votes == 3  # type: ignore[union-attr]
    gone = client.delete(VOTES, json=body)
    assert gone.get_json() == {
        "github_thumbs_up": 2,
        "bridge_votes": 0,
        "total_votes": 2,
        "voted": False,
    }
    assert client.delete(VOTES, json=body).get_json()["bridge_votes"] == 0


def test_explicit_weight_claim(client: FlaskClient, clock: FakeClock, runtime: Runtime) -> None:
    client.post(VOTES, json={"voter_token": token(clock, weight=10, tier="pro")})
    assert runtime.store.get_request("mobile", 1).weighted_votes == 10  # type: ignore[union-attr]


def test_anonymous_vote_where_allowed(client: FlaskClient) -> None:
    response = client.post(VOTES, json={"anonymous_id": "browser-1234abcd"})
    assert response.status_code == 200
    assert response.get_json()["voted"] is True


def test_anonymous_vote_refused_where_not_allowed(client: FlaskClient) -> None:
    response = client.post(
        "/v1/apps/web/requests/1/votes", json={"anonymous_id": "browser-1234abcd"}
    )
    assert response.status_code == 403
    assert error_code(response) == "forbidden"


def jwt_none(clock: FakeClock) -> str:
    import jwt

    return jwt.encode({"sub": "u", "iat": int(clock().timestamp())}, key=None, algorithm="none")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("make", "status"),
    [
        (
            lambda c: mint(
                "not-the-secret-at-all-but-long-enough", sub="u", iat=int(c().timestamp())
            ),
            401,
        ),
        (lambda c: mint(sub="u", exp=int(c().timestamp()) - 120), 401),
        (lambda c: mint(sub="u", iat=int(c().timestamp()) - 3600 - 120), 401),
        (lambda c: mint(sub="u", exp=int(c().timestamp()) + 3600 + 120), 401),
        (lambda c: mint(sub="u"), 401),
        (lambda c: mint(iat=int(c().timestamp())), 401),
        (lambda c: mint(sub="u", iat=int(c().timestamp()), weight=1000), 401),
        (lambda c: mint(sub="u", iat=int(c().timestamp()), aud="web"), 403),
        (lambda c: mint(WEB_SECRET, sub="u", iat=int(c().timestamp())), 403),
        (lambda c: "not.a.jwt", 401),
        (jwt_none, 401),
    ],
    ids=[
        "forged",
        "expired",
        "too-old",
        "exp-beyond-max-age",
        "no-exp-or-iat",
        "no-sub",
        "bad-weight",
        "wrong-aud",
        "other-apps-secret",
        "garbage",
        "alg-none",
    ],
)
def test_bad_tokens_are_refused(
    client: FlaskClient, clock: FakeClock, runtime: Runtime, make, status: int
) -> None:  # type: ignore[no-untyped-def]
    response = client.post(VOTES, json={"voter_token": make(clock)})
    assert response.status_code == status, response.get_json()
    assert runtime.store.get_request("mobile", 1).bridge_votes == 0  # type: ignore[union-attr]


def test_token_within_leeway_is_accepted(client: FlaskClient, clock: FakeClock) -> None:
    expired_a_little = mint(sub="u", exp=int(clock().timestamp()) - 30)
    assert client.post(VOTES, json={"voter_token": expired_a_little}).status_code == 200


def test_matching_aud_is_accepted(client: FlaskClient, clock: FakeClock) -> None:
    assert client.post(VOTES, json={"voter_token": token(clock, aud="mobile")}).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"voter_token": "x", "anonymous_id": "browser-1234abcd"},
        {"vote": 1},
        {"voter_token": None, "anonymous_id": "browser-1234abcd"},
        {"anonymous_id": None},
    ],
)
def test_vote_needs_exactly_one_identity(client: FlaskClient, body: dict[str, object]) -> None:
    assert client.post(VOTES, json=body).status_code == 422


def test_vote_on_a_closed_request_is_409(client: FlaskClient, clock: FakeClock) -> None:
    response = client.post("/v1/apps/mobile/requests/2/votes", json={"voter_token": token(clock)})
    assert response.status_code == 409
    assert error_code(response) == "conflict"


def test_vote_on_a_missing_request_or_app_is_404(client: FlaskClient, clock: FakeClock) -> None:
    assert (
        client.post(
            "/v1/apps/mobile/requests/9/votes", json={"voter_token": token(clock)}
        ).status_code
        == 404
    )
    assert (
        client.post(
            "/v1/apps/nope/requests/1/votes", json={"voter_token": token(clock)}
        ).status_code
        == 404
    )


def test_listing_marks_what_the_voter_voted_for(client: FlaskClient, clock: FakeClock) -> None:
    voter = token(clock)
    client.post(VOTES, json={"voter_token": voter})
    items = client.get(
        "/v1/apps/mobile/requests", headers={"X-Featurebridge-Voter": voter}
    ).get_json()["items"]
    assert {item["number"]: item["voted"] for item in items} == {1: True, 2: False}
    other = token(clock, sub="user-2")
    shown = client.get(
        "/v1/apps/mobile/requests/1", headers={"X-Featurebridge-Voter": other}
    ).get_json()
    assert shown["voted"] is False
    assert "voted" not in client.get("/v1/apps/mobile/requests/1").get_json()
    bad = client.get("/v1/apps/mobile/requests", headers={"X-Featurebridge-Voter": "garbage"})
    assert bad.status_code == 401


def test_submitter_with_a_token_votes_as_that_user(
    client: FlaskClient, clock: FakeClock, tracker: FakeTracker
) -> None:
    voter = token(clock, sub="user-7", tier="pro", email="ada@example.com", name="Ada")
    created = client.post(
        "/v1/apps/mobile/requests", json={"title": "Offline mode", "voter_token": voter}
    )
    assert created.status_code == 201
    number = created.get_json()["number"]
    repeat = client.post(f"/v1/apps/mobile/requests/{number}/votes", json={"voter_token": voter})
    assert repeat.get_json()["bridge_votes"] == 1  # the submission already counted this user
    assert "ada@example.com" not in tracker.issues["acme/mobile"][-1].body


def test_submission_with_a_bad_token_is_refused_and_not_stored(
    client: FlaskClient, runtime: Runtime
) -> None:
    response = client.post(
        "/v1/apps/mobile/requests", json={"title": "x", "voter_token": "garbage"}
    )
    assert response.status_code == 401
    assert runtime.store.outbox_stats().pending == 0


def test_votes_are_rate_limited(client: FlaskClient, clock: FakeClock, runtime: Runtime) -> None:
    limit = runtime.settings.server.rate_limits.votes_per_hour
    answers = [
        client.post(VOTES, json={"voter_token": token(clock, sub=f"user-{n}")}).status_code
        for n in range(limit)
    ]
    assert answers == [200] * limit
    response = client.post(VOTES, json={"voter_token": token(clock, sub="user-last")})
    assert response.status_code == 429
    assert "too many vote requests" in response.get_json()["error"]["message"]
    assert response.headers["Retry-After"]


def test_anonymous_votes_are_limited_per_client_and_request(
    client: FlaskClient, clock: FakeClock, runtime: Runtime
) -> None:
    per_day = runtime.settings.server.rate_limits.anonymous_votes_per_request_per_day
    fresh_ids = [{"anonymous_id": f"browser-{n:08d}"} for n in range(per_day + 1)]
    answers = [client.post(VOTES, json=body).status_code for body in fresh_ids]
    assert answers == [200] * per_day + [429]
    assert runtime.store.get_request("mobile", 1).bridge_votes == per_day  # type: ignore[union-attr]
    # Another client, another request of the same client, and a signed-in voter still vote.
    other = {"REMOTE_ADDR": "10.1.2.3"}
    assert client.post(VOTES, json=fresh_ids[-1], environ_base=other).status_code == 200
    other_request = "/v1/apps/web/requests/1/votes"
    signed = {"voter_token": mint(WEB_SECRET, sub="u", iat=int(clock().timestamp()))}
    assert client.post(other_request, json=signed).status_code == 200
    assert client.post(VOTES, json={"voter_token": token(clock)}).status_code == 200
    # Taking a vote back is never limited; the next day counts afresh.
    assert client.delete(VOTES, json=fresh_ids[0]).status_code == 200
    clock.advance(86_400)
    assert client.post(VOTES, json=fresh_ids[-1]).status_code == 200


def test_ipv6_clients_are_counted_by_their_64(client: FlaskClient, runtime: Runtime) -> None:
    per_day = runtime.settings.server.rate_limits.anonymous_votes_per_request_per_day
    answers = [
        client.post(
            VOTES,
            json={"anonymous_id": f"browser-{n:08d}"},
            environ_base={"REMOTE_ADDR": f"2001:db8:1:2::{n + 1:x}"},
        ).status_code
        for n in range(per_day + 1)
    ]
    assert answers == [200] * per_day + [429]
    next_64 = {"REMOTE_ADDR": "2001:db8:1:3::1"}
    answer = client.post(VOTES, json={"anonymous_id": "browser-next6400"}, environ_base=next_64)
    assert answer.status_code == 200


@pytest.mark.parametrize("origin", ["https://evil.example", "null"])
@pytest.mark.parametrize("method", ["post", "delete"])
def test_a_vote_from_a_foreign_origin_is_refused(
    client: FlaskClient, runtime: Runtime, origin: str, method: str
) -> None:
    call = getattr(client, method)
    for body in (
        {"json": {"anonymous_id": "browser-00000001"}},
        {"data": {"anonymous_id": "browser-00000001"}},  # a form post needs no preflight
        {"data": "anonymous_id=browser-00000001", "content_type": "text/plain"},
    ):
        answer = call(VOTES, headers={"Origin": origin}, **body)
        assert answer.status_code == 403, body
        assert error_code(answer) == "forbidden"
    assert runtime.store.get_request("mobile", 1).bridge_votes == 0  # type: ignore[union-attr]


def test_concurrent_votes_over_http_lose_nothing(
    app: Flask, clock: FakeClock, runtime: Runtime
) -> None:
    tokens = [token(clock, sub=f"user-{n}") for n in range(30)]
    answers: list[int] = []

    def vote(voter: str) -> None:
        answers.append(
            app.test_client()
            .post(VOTES, json={"voter_token": voter}, environ_base={"REMOTE_ADDR": voter[-12:]})
            .status_code
        )

    threads = [threading.Thread(target=vote, args=(t,)) for t in tokens * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(answers) == {200}
    assert runtime.store.get_request("mobile", 1).bridge_votes == 30  # type: ignore[union-attr]


def test_token_age_uses_the_configured_maximum(client: FlaskClient, clock: FakeClock) -> None:
    old = token(clock)
    clock.advance(timedelta(minutes=59).total_seconds())
    assert client.post(VOTES, json={"voter_token": old}).status_code == 200
    clock.advance(timedelta(minutes=3).total_seconds())
    assert client.post(VOTES, json={"voter_token": old}).status_code == 401


def test_a_changed_vote_asks_for_the_tally_after_the_interval(
    client: FlaskClient, clock: FakeClock, runtime: Runtime
) -> None:
    body = {"voter_token": token(clock)}
    client.post(VOTES, json=body)
    client.post(VOTES, json=body)  # a repeat changes nothing: no second job
    assert isinstance(runtime.queue, RecordingQueue)
    assert [job.kind for job in runtime.queue.jobs] == ["write_tallies"]
    assert runtime.queue.delays == [61.0]


def test_a_token_with_only_exp_ages_out_like_one_with_iat(
    client: FlaskClient, clock: FakeClock
) -> None:
    now = int(clock().timestamp())
    within = mint(sub="u", exp=now + 3600)
    assert client.post(VOTES, json={"voter_token": within}).status_code == 200
    everlasting = mint(sub="v", exp=now + 10 * 365 * 86_400)
    response = client.post(VOTES, json={"voter_token": everlasting})
    assert response.status_code == 401
    assert "voter_token_max_age" in response.get_json()["error"]["message"]


STAFF_VOTES = "/v1/apps/staff/requests/1/votes"


def test_votes_on_a_non_public_app_follow_the_listing(
    client: FlaskClient, clock: FakeClock, runtime: Runtime
) -> None:
    now = int(clock().timestamp())
    staff = mint(STAFF_SECRET, sub="u", iat=now)
    anonymous = {"anonymous_id": "browser-1234abcd"}
    hidden = [
        client.post(STAFF_VOTES, json=anonymous),
        client.delete(STAFF_VOTES, json=anonymous),
        client.post(STAFF_VOTES, json={"voter_token": mint(sub="u", iat=now)}),
        client.post(STAFF_VOTES, json={"voter_token": mint(STAFF_SECRET, sub="u", iat=now - 9999)}),
        client.post(STAFF_VOTES, json={"voter_token": "not.a.jwt"}),
        client.post(STAFF_VOTES, json={}),
        client.post(STAFF_VOTES, data="x", content_type="text/plain"),
        client.post(STAFF_VOTES, json=anonymous, headers={"X-Featurebridge-Voter": "forged"}),
    ]
    assert [response.status_code for response in hidden] == [404] * len(hidden)
    assert {error_code(response) for response in hidden} == {"not_found"}
    assert runtime.store.get_request("staff", 1).bridge_votes == 0  # type: ignore[union-attr]

    assert client.post(STAFF_VOTES, json={"voter_token": staff}).status_code == 200
    seen = {"X-Featurebridge-Voter": staff}
    assert client.post(STAFF_VOTES, json=anonymous, headers=seen).get_json()["bridge_votes"] == 2
    assert client.post(STAFF_VOTES, json={}, headers=seen).status_code == 422
    operator = {"Authorization": "Bearer operator-secret"}
    assert client.delete(STAFF_VOTES, json=anonymous, headers=operator).get_json() == {
        "github_thumbs_up": 2,
        "bridge_votes": 1,
        "total_votes": 3,
        "voted": False,
    }
    assert client.delete(STAFF_VOTES, json={"voter_token": staff}).get_json()["bridge_votes"] == 0
