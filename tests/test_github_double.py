"""Self-tests of the GitHub double: endpoints, auth, validation, faults, GraphQL.

Every test's answers are checked against GitHub's API description at teardown
(``double`` fixture), and clients are githubkit where the bridge would use it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from githubkit import AppAuthStrategy, GitHub, TokenAuthStrategy
from githubkit.exception import (
    GraphQLFailed,
    PrimaryRateLimitExceeded,
    RequestError,
    RequestFailed,
    SecondaryRateLimitExceeded,
)
from jwt.api_jws import PyJWS

from tests.github_double import Fault, GitHubDouble
from tests.github_double.auth import app_private_key_pem

API = "https://api.github.com"
REPO = "acme/mobile"
ISSUES = "/repos/{owner}/{repo}/issues"
TOKEN = "ghp_personal0000000000000000000000000000"


@pytest.fixture
def double() -> Iterator[GitHubDouble]:
    """A fresh double whose every answer must match GitHub's documented responses."""
    d = GitHubDouble()
    yield d
    assert d.response_violations() == []


@pytest.fixture
def installation(double: GitHubDouble) -> int:
    """The App installed on acme for acme/mobile and acme/web."""
    return double.add_installation("acme", repos=["acme/mobile", "acme/web"])


def app_client(double: GitHubDouble, base_url: str = API, **kw: Any) -> GitHub[Any]:
    """githubkit authenticated as the App, over the in-process transport by default."""
    if "transport" not in kw and base_url == API:
        kw["transport"] = double.transport
    return GitHub(
        AppAuthStrategy(double.app_id, double.private_key_pem),
        base_url=base_url,
        auto_retry=False,
        http_cache=False,
        **kw,
    )


def install_client(double: GitHubDouble, installation_id: int, **kw: Any) -> GitHub[Any]:
    """githubkit authenticated as an installation (fetches its token from the double)."""
    app = app_client(double, **kw)
    return app.with_auth(app.auth.as_installation(installation_id))


def token_client(double: GitHubDouble, token: str) -> GitHub[Any]:
    """githubkit with a plain token."""
    return GitHub(
        TokenAuthStrategy(token),
        base_url=API,
        transport=double.transport,
        auto_retry=False,
        http_cache=False,
    )


def raw(double: GitHubDouble, token: str | None = None) -> httpx.Client:
    """A bare httpx client (for requests githubkit would refuse to build)."""
    headers = {"Authorization": f"token {token}"} if token else {}
    return httpx.Client(transport=double.transport, base_url=API, headers=headers)


def first_error(failed: GraphQLFailed) -> Any:
    """The first error of a failed GraphQL answer."""
    errors = failed.response.errors
    assert errors
    return errors[0]


def sign_jwt(double: GitHubDouble, **claims: Any) -> str:
    """An App JWT with GitHub's usual claims, overridable."""
    now = int(time.time())
    payload = {"iat": now - 60, "exp": now + 540, "iss": str(double.app_id), **claims}
    return jwt.encode(payload, double.private_key_pem, algorithm="RS256")


# ---------------------------------------------------------------------------- App auth


def test_app_endpoints_and_installation_token(double: GitHubDouble, installation: int) -> None:
    with app_client(double) as gh:
        app = gh.rest.apps.get_authenticated().parsed_data
        found = gh.rest.apps.get_repo_installation("acme", "mobile").parsed_data
        token = gh.rest.apps.create_installation_access_token(installation).parsed_data
    assert app is not None
    assert app.id == double.app_id
    assert app.slug == "featurebridge"
    assert found.id == installation
    assert found.app_id == double.app_id
    assert token.token.startswith("ghs_")
    expires = datetime.fromisoformat(token.expires_at)
    assert timedelta(minutes=59) < expires - datetime.now(UTC) <= timedelta(hours=1)
    assert [c.auth for c in double.calls] == ["jwt", "jwt", "jwt"]


def test_installation_token_narrowed_to_named_repositories(
    double: GitHubDouble, installation: int
) -> None:
    with app_client(double) as gh:
        narrowed = gh.rest.apps.create_installation_access_token(
            installation, repositories=["web"]
        ).parsed_data.token
        with pytest.raises(RequestFailed) as refused:
            gh.rest.apps.create_installation_access_token(installation, repositories=["nope"])
    assert refused.value.response.status_code == 422
    with raw(double, narrowed) as client:
        assert client.get("/repos/acme/web").status_code == 200
        assert client.get("/repos/acme/mobile").status_code == 404


# ---------------------------------------------------------------------------- issues


def test_create_issue_as_bot_creates_missing_labels(
    double: GitHubDouble, installation: int
) -> None:
    double.add_label(REPO, "Feature-Request", color="00ff00")
    with install_client(double, installation) as gh:
        issue = gh.rest.issues.create(
            "acme",
            "mobile",
            title="Dark mode",
            body="Please",
            labels=["feature-request", "app:mobile"],
        ).parsed_data
    assert issue.number == 1
    assert issue.html_url == "https://github.com/acme/mobile/issues/1"
    assert issue.user is not None
    assert issue.user.login == "featurebridge[bot]"
    assert issue.user.type == "Bot"
    assert [label.name for label in issue.labels] == ["Feature-Request", "app:mobile"]
    assert issue.reactions is not None
    assert issue.reactions.plus_one == 0
    assert issue.performed_via_github_app is not None
    assert {label["name"] for label in double.labels(REPO)} == {"Feature-Request", "app:mobile"}
    colours = {label["name"]: label["color"] for label in double.labels(REPO)}
    assert colours == {"Feature-Request": "00ff00", "app:mobile": "ededed"}  # GitHub's default
    assert double.calls[-1].auth == "installation"
    assert double.calls[-1].json["title"] == "Dark mode"


def test_issue_numbers_are_shared_with_pull_requests(
    double: GitHubDouble, installation: int
) -> None:
    double.add_issue(REPO, "seeded")
    double.add_pull_request(REPO, "a PR")
    with install_client(double, installation) as gh:
        created = gh.rest.issues.create("acme", "mobile", title="third").parsed_data
        listed = gh.rest.issues.list_for_repo("acme", "mobile", state="all").parsed_data
    assert created.number == 3
    assert [i.number for i in listed] == [3, 2, 1]
    assert listed[1].pull_request is not None  # GitHub lists pull requests as issues


def test_get_and_patch_issue(double: GitHubDouble, installation: int) -> None:
    canonical = double.add_issue(REPO, "Original", thumbs_up=7)
    double.add_issue(REPO, "Dupe", labels=["feature-request"])
    with install_client(double, installation) as gh:
        got = gh.rest.issues.get("acme", "mobile", 1).parsed_data
        closed = gh.rest.issues.update(
            "acme",
            "mobile",
            2,
            state="closed",
            state_reason="duplicate",
            duplicate_issue_id=canonical["id"],
            labels=["feature-request", "status:duplicate"],
            title="Dupe (renamed)",
        ).parsed_data
        reopened = gh.rest.issues.update("acme", "mobile", 2, state="open").parsed_data
        with pytest.raises(RequestFailed) as missing:
            gh.rest.issues.get("acme", "mobile", 99)
    assert got.reactions is not None
    assert got.reactions.plus_one == 7
    assert got.reactions.total_count == 7
    assert closed.state == "closed"
    assert closed.state_reason == "duplicate"
    assert closed.closed_at is not None
    assert closed.title == "Dupe (renamed)"
    assert closed.closed_by is not None
    assert closed.closed_by.login == "featurebridge[bot]"
    assert [label.name for label in closed.labels] == ["feature-request", "status:duplicate"]
    assert reopened.state == "open"
    assert reopened.state_reason == "reopened"
    assert reopened.closed_at is None
    assert missing.value.response.status_code == 404


def test_issue_limits_are_enforced_like_github(double: GitHubDouble, installation: int) -> None:
    with install_client(double, installation) as gh:
        with pytest.raises(RequestFailed) as too_long:
            gh.rest.issues.create("acme", "mobile", title="t", body="x" * 65_537)
        with pytest.raises(RequestFailed) as long_title:
            gh.rest.issues.create("acme", "mobile", title="t" * 257)
    assert too_long.value.response.status_code == 422
    assert too_long.value.response.json()["errors"][0]["field"] == "body"
    assert long_title.value.response.status_code == 422
    assert double.issues(REPO) == []


def test_list_issues_filters_and_sorting(double: GitHubDouble, installation: int) -> None:
    day = datetime(2024, 5, 1, tzinfo=UTC)
    double.add_issue(REPO, "old", labels=["feature-request", "app:mobile"], created_at=day)
    double.add_issue(
        REPO, "web only", labels=["feature-request", "app:web"], created_at=day + timedelta(days=1)
    )
    double.add_issue(
        REPO,
        "closed",
        labels=["feature-request", "app:mobile"],
        state="closed",
        state_reason="not_planned",
        created_at=day + timedelta(days=2),
    )
    double.add_issue(
        REPO,
        "by alice",
        labels=["App:Mobile", "feature-request"],
        user_login="alice",
        created_at=day + timedelta(days=3),
    )
    with install_client(double, installation) as gh:

        def titles(**q: Any) -> list[str]:
            return [
                i.title for i in gh.rest.issues.list_for_repo("acme", "mobile", **q).parsed_data
            ]

        assert titles() == ["by alice", "web only", "old"]  # open, newest first
        assert titles(state="all", labels="feature-request,app:mobile") == [
            "by alice",
            "closed",
            "old",
        ]
        assert titles(state="all", labels="app:mobile", direction="asc") == [
            "old",
            "closed",
            "by alice",
        ]
        assert titles(state="closed") == ["closed"]
        assert titles(creator="alice") == ["by alice"]
        assert titles(state="all", since=(day + timedelta(days=2)).isoformat()) == [
            "by alice",
            "closed",
        ]
        double.update_issue(REPO, 1, body="touched")  # bumps updated_at to now
        assert titles(sort="updated")[0] == "old"


def test_pagination_link_headers_over_100_issues(double: GitHubDouble, installation: int) -> None:
    for n in range(1, 251):
        double.add_issue(REPO, f"issue {n}")
    with install_client(double, installation) as gh:
        first = gh.rest.issues.list_for_repo("acme", "mobile", state="all", per_page=100)
        capped = gh.rest.issues.list_for_repo("acme", "mobile", per_page=500).parsed_data
        every = list(
            gh.rest.paginate(
                gh.rest.issues.list_for_repo, owner="acme", repo="mobile", state="all", per_page=100
            )
        )
    assert len(first.parsed_data) == 100
    assert len(capped) == 100
    link = first.headers["link"]
    assert 'page=2>; rel="next"' in link
    assert 'page=3>; rel="last"' in link
    assert len(every) == 250
    assert len({i.number for i in every}) == 250

    # Follow the Link URLs themselves, as a client without githubkit's paginator would.
    seen: list[int] = []
    token = double.credentials.issue_installation_token(installation, double.app.bot, [REPO])[0]
    with raw(double, token) as client:
        url: str | None = f"{API}/repos/acme/mobile/issues?state=all&per_page=100"
        while url:
            page = client.get(url)
            seen.extend(i["number"] for i in page.json())
            url = page.links.get("next", {}).get("url")
        assert 'rel="prev"' in page.headers["link"]
        assert 'rel="first"' in page.headers["link"]
    assert seen == list(range(250, 0, -1))


# ------------------------------------------------------------------ labels, comments, repo


def test_label_endpoints(double: GitHubDouble, installation: int) -> None:
    with install_client(double, installation) as gh:
        made = gh.rest.issues.create_label(
            "acme", "mobile", name="app:mobile", color="#1D76DB", description="Mobile app"
        ).parsed_data
        got = gh.rest.issues.get_label("acme", "mobile", "APP:MOBILE").parsed_data
        with pytest.raises(RequestFailed) as duplicate:
            gh.rest.issues.create_label("acme", "mobile", name="App:Mobile")
        with pytest.raises(RequestFailed) as missing:
            gh.rest.issues.get_label("acme", "mobile", "nope")
        listed = gh.rest.issues.list_labels_for_repo("acme", "mobile").parsed_data
    assert made.color == "1d76db"
    assert got.id == made.id
    assert duplicate.value.response.status_code == 422
    assert duplicate.value.response.json()["errors"][0]["code"] == "already_exists"
    assert missing.value.response.status_code == 404
    assert [label.name for label in listed] == ["app:mobile"]


def test_label_names_with_slashes_route_per_segment(
    double: GitHubDouble, installation: int
) -> None:
    # githubkit puts path parameters in unencoded, so "area/ios" would be two segments
    # on GitHub as well; a client that percent-encodes reaches the label.
    double.add_label(REPO, "area/ios")
    double.add_token(TOKEN, repos=[REPO])
    with raw(double, TOKEN) as client:
        got = client.get("/repos/acme/mobile/labels/area%2Fios")
        split = client.get("/repos/acme/mobile/labels/area/ios")
    assert got.json()["name"] == "area/ios"
    assert split.status_code == 404
    double.violations.clear()  # the split path is not in the description: expected


def test_comment_endpoints(double: GitHubDouble, installation: int) -> None:
    double.add_issue(REPO, "Dark mode")
    double.add_comment(REPO, 1, "+1 from a human", user_login="bob")
    with install_client(double, installation) as gh:
        made = gh.rest.issues.create_comment(
            "acme", "mobile", 1, body="<!-- tally --> 3 votes"
        ).parsed_data
        edited = gh.rest.issues.update_comment(
            "acme", "mobile", made.id, body="<!-- tally --> 4 votes"
        ).parsed_data
        listed = gh.rest.issues.list_comments("acme", "mobile", 1).parsed_data
        with pytest.raises(RequestFailed) as blank:
            gh.rest.issues.create_comment("acme", "mobile", 1, body="  ")
        with pytest.raises(RequestFailed) as missing:
            gh.rest.issues.update_comment("acme", "mobile", 999, body="x")
    assert made.user is not None
    assert made.user.login == "featurebridge[bot]"
    assert edited.body == "<!-- tally --> 4 votes"
    assert edited.id == made.id
    assert [c.body for c in listed] == ["+1 from a human", "<!-- tally --> 4 votes"]
    assert made.html_url.endswith(f"/acme/mobile/issues/1#issuecomment-{made.id}")
    assert blank.value.response.status_code == 422
    assert missing.value.response.status_code == 404
    assert double.issue(REPO, 1)["comments"] == 2


def test_get_repository(double: GitHubDouble, installation: int) -> None:
    with install_client(double, installation) as gh:
        repo = gh.rest.repos.get("acme", "web").parsed_data
    assert repo.full_name == "acme/web"
    assert repo.has_issues
    assert repo.owner.login == "acme"


def test_personal_token_acts_as_its_user(double: GitHubDouble) -> None:
    double.add_token(TOKEN, repos=[REPO])
    with token_client(double, TOKEN) as gh:
        issue = gh.rest.issues.create("acme", "mobile", title="From a PAT").parsed_data
    assert issue.user is not None
    assert issue.user.login == "octocat"
    assert issue.performed_via_github_app is None
    assert double.calls[-1].auth == "token"


def test_over_loopback_http(double: GitHubDouble, installation: int) -> None:
    with double.serve() as base_url:
        assert base_url.startswith("http://127.0.0.1:")
        with install_client(double, installation, base_url=base_url) as gh:
            issue = gh.rest.issues.create(
                "acme", "mobile", title="Over HTTP", labels=["x"]
            ).parsed_data
            listed = gh.rest.issues.list_for_repo("acme", "mobile", per_page=1)
            started = time.perf_counter()
            for _ in range(20):
                gh.rest.issues.get("acme", "mobile", issue.number)
            per_request = (time.perf_counter() - started) / 20
    assert [i.title for i in listed.parsed_data] == ["Over HTTP"]
    assert listed.headers.get("link") is None
    assert per_request < 0.03  # no 40 ms Nagle stall per request


def test_threaded_server_keeps_numbers_unique(double: GitHubDouble) -> None:
    double.add_token(TOKEN, repos=[REPO])
    with double.serve() as base_url, ThreadPoolExecutor(max_workers=8) as pool:

        def create(n: int) -> int:
            headers = {"Authorization": f"token {TOKEN}"}
            with httpx.Client(base_url=base_url, headers=headers) as client:
                answer = client.post("/repos/acme/mobile/issues", json={"title": f"t{n}"})
            return int(answer.json()["number"])

        numbers = list(pool.map(create, range(40)))
    assert sorted(numbers) == list(range(1, 41))


def test_now_steers_timestamps_and_installations_merge_per_account() -> None:
    fixed = datetime(2024, 2, 29, 12, 0, tzinfo=UTC)
    double = GitHubDouble(now=lambda: fixed)
    first = double.add_installation("acme", repos=["mobile"])
    assert double.add_installation("acme", repos=["acme/web"]) == first
    issue = double.add_issue("acme/web", "leap day")
    assert issue["created_at"] == "2024-02-29T12:00:00Z"


# ---------------------------------------------------------------------------- auth refusals


def test_auth_refusals(double: GitHubDouble, installation: int) -> None:
    double.add_repo("other/secret")
    with app_client(double) as gh:
        token = gh.rest.apps.create_installation_access_token(installation).parsed_data.token

    def status(path: str, auth: str | None) -> tuple[int, str]:
        headers = {"Authorization": auth} if auth else {}
        with httpx.Client(transport=double.transport, base_url=API) as client:
            answer = client.get(path, headers=headers)
        body = answer.json()
        return answer.status_code, body.get("message", "") if isinstance(body, dict) else ""

    now = int(time.time())
    assert status("/repos/acme/mobile/issues", None) == (401, "Requires authentication")
    assert status("/repos/acme/mobile/issues", "token ghp_unknown") == (401, "Bad credentials")
    assert status("/repos/acme/mobile/issues", f"Bearer {token}")[0] == 200
    assert status("/repos/other/secret/issues", f"token {token}") == (404, "Not Found")
    assert status("/app", f"token {token}")[0] == 401  # installation token on an App route
    assert status("/repos/acme/mobile", f"Bearer {sign_jwt(double)}")[0] == 401  # JWT on repo
    assert status("/app", f"Bearer {sign_jwt(double)}")[0] == 200
    assert double.private_key_pem == app_private_key_pem()  # one key per process
    refused_jwts = {
        "expired": sign_jwt(double, iat=now - 700, exp=now - 100),
        "too long": sign_jwt(double, iat=now - 60, exp=now + 600),
        "from the future": sign_jwt(double, iat=now + 120, exp=now + 600),
        "wrong issuer": sign_jwt(double, iss="999"),
        "unsigned": jwt.encode(
            {"iat": now, "exp": now + 60, "iss": str(double.app_id)},
            "secret-secret-secret-secret-secret",
            algorithm="HS256",
        ),
    }
    for why, bad in refused_jwts.items():
        assert status("/app", f"Bearer {bad}")[0] == 401, why
    # GitHub's own examples sign an integer iss; pyjwt only encodes strings, so go raw.
    int_iss = PyJWS().encode(
        json.dumps({"iat": now - 60, "exp": now + 500, "iss": double.app_id}).encode(),
        double.private_key_pem,
        algorithm="RS256",
    )
    assert status("/app", f"Bearer {int_iss}")[0] == 200
    double.expire_tokens()
    assert status("/repos/acme/mobile", f"token {token}") == (401, "Bad credentials")
    assert double.violations == []


def test_repository_without_installation_is_404_for_the_app(double: GitHubDouble) -> None:
    double.add_repo("acme/elsewhere")
    with app_client(double) as gh, pytest.raises(RequestFailed) as missing:
        gh.rest.apps.get_repo_installation("acme", "elsewhere")
    assert missing.value.response.status_code == 404


# ---------------------------------------------------------------------------- violations


def test_invalid_body_is_refused_and_recorded(double: GitHubDouble, installation: int) -> None:
    double.add_token(TOKEN, repos=[REPO])
    with raw(double, TOKEN) as client:
        answer = client.post("/repos/acme/mobile/issues", json={"title": "x", "labels": "bug"})
    assert answer.status_code == 422
    assert "labels" in answer.json()["message"]
    assert double.issues(REPO) == []
    assert len(double.violations) == 1
    assert "$.labels" in double.violations[0]
    with pytest.raises(AssertionError, match="labels"):
        double.assert_no_violations()


def test_unknown_fields_and_params_are_recorded_but_served(double: GitHubDouble) -> None:
    double.add_token(TOKEN, repos=[REPO])
    with raw(double, TOKEN) as client:
        created = client.post("/repos/acme/mobile/issues", json={"title": "x", "lables": ["a"]})
        listed = client.get("/repos/acme/mobile/issues", params={"labelz": "a", "state": "bogus"})
        broken = client.post(
            "/repos/acme/mobile/issues",
            content=b"{not json",
            headers={"content-type": "application/json"},
        )
    assert created.status_code == 201
    assert listed.status_code == 200
    assert broken.status_code == 400
    assert any("'lables'" in v for v in double.violations)
    assert any("'labelz'" in v for v in double.violations)
    assert any("state='bogus'" in v for v in double.violations)
    assert any("not valid JSON" in v for v in double.violations)


def test_unknown_and_unemulated_paths(double: GitHubDouble) -> None:
    double.add_token(TOKEN, repos=[REPO])
    with raw(double, TOKEN) as client:
        unknown = client.get("/repos/acme/mobile/wishes")
        documented = client.get("/repos/acme/mobile/milestones")
    assert unknown.status_code == 404
    assert unknown.json()["message"] == "Not Found"
    assert "documentation_url" in unknown.json()
    assert documented.status_code == 404
    assert documented.headers["x-github-double"] == "not-implemented"
    assert double.violations == [
        "GET /repos/acme/mobile/wishes: no such operation in GitHub's REST description"
    ]


# ---------------------------------------------------------------------------- faults


def test_server_error_then_success(double: GitHubDouble, installation: int) -> None:
    double.faults.add(Fault(method="POST", path=ISSUES, kind="server_error", times=2))
    with install_client(double, installation) as gh:
        for _ in range(2):
            with pytest.raises(RequestFailed) as failed:
                gh.rest.issues.create("acme", "mobile", title="x")
            assert failed.value.response.status_code == 502
        gh.rest.issues.create("acme", "mobile", title="x")
    assert len(double.issues(REPO)) == 1
    assert [c.fault for c in double.calls if c.method == "POST" and c.template == ISSUES] == [
        "server_error",
        "server_error",
        None,
    ]
    assert double.faults.pending == []


@pytest.mark.parametrize("status", [403, 429])
def test_secondary_rate_limit(double: GitHubDouble, installation: int, status: int) -> None:
    double.faults.add(
        Fault(
            method="POST", path=ISSUES, kind="secondary_rate_limit", retry_after=30, status=status
        )
    )
    with install_client(double, installation) as gh:
        with pytest.raises(SecondaryRateLimitExceeded) as limited:
            gh.rest.issues.create("acme", "mobile", title="x")
        assert limited.value.retry_after == timedelta(seconds=30)
        assert limited.value.response.status_code == status
        assert "secondary rate limit" in limited.value.response.json()["message"]
        gh.rest.issues.create("acme", "mobile", title="x")
    assert len(double.issues(REPO)) == 1


def test_secondary_rate_limit_without_retry_after(double: GitHubDouble) -> None:
    double.add_token(TOKEN, repos=[REPO])
    double.faults.add(
        Fault(method="*", path="*", kind="secondary_rate_limit", send_retry_after=False)
    )
    with raw(double, TOKEN) as client:
        answer = client.get("/repos/acme/mobile/issues")
    assert answer.status_code == 403
    assert "retry-after" not in answer.headers
    assert "secondary rate limit" in answer.json()["message"]


def test_primary_rate_limit(double: GitHubDouble, installation: int) -> None:
    double.faults.add(Fault(method="GET", path=ISSUES, kind="primary_rate_limit", retry_after=120))
    with install_client(double, installation) as gh, pytest.raises(PrimaryRateLimitExceeded) as hit:
        gh.rest.issues.list_for_repo("acme", "mobile")
    headers = hit.value.response.headers
    assert hit.value.response.status_code == 403
    assert headers["x-ratelimit-remaining"] == "0"
    assert 100 <= int(headers["x-ratelimit-reset"]) - time.time() <= 121


def test_slow_answers_late_but_normally(double: GitHubDouble, installation: int) -> None:
    double.faults.add(Fault(method="GET", path="/repos/{owner}/{repo}", kind="slow", delay=0.2))
    with install_client(double, installation) as gh:
        started = time.monotonic()
        gh.rest.repos.get("acme", "mobile")
        assert time.monotonic() - started >= 0.2


def test_slow_over_http_times_out_but_the_write_lands(double: GitHubDouble) -> None:
    double.add_token(TOKEN, repos=[REPO])
    double.faults.add(Fault(method="POST", path=ISSUES, kind="slow", delay=0.5))
    with (
        double.serve() as base_url,
        httpx.Client(
            base_url=base_url, headers={"Authorization": f"token {TOKEN}"}, timeout=0.1
        ) as client,
    ):
        with pytest.raises(httpx.ReadTimeout):
            client.post("/repos/acme/mobile/issues", json={"title": "late"})
        deadline = time.monotonic() + 3
        while not double.issues(REPO) and time.monotonic() < deadline:
            time.sleep(0.02)
    assert [i["title"] for i in double.issues(REPO)] == ["late"]


def test_drop_after_create_in_process(double: GitHubDouble, installation: int) -> None:
    double.faults.add(Fault(method="POST", path=ISSUES, kind="drop_after_create"))
    with install_client(double, installation) as gh:
        with pytest.raises(RequestError) as lost:
            gh.rest.issues.create("acme", "mobile", title="Did it land?")
        assert isinstance(lost.value.__cause__, httpx.RemoteProtocolError)
        # The bridge's recovery: list recent issues and find its marker.
        recent = gh.rest.issues.list_for_repo(
            "acme",
            "mobile",
            state="all",
            sort="created",
            direction="desc",
            creator="featurebridge[bot]",
        )
    assert [i.title for i in recent.parsed_data] == ["Did it land?"]
    assert double.calls[-2].fault == "drop_after_create"
    assert double.calls[-2].status == 201


def test_drop_after_create_over_http(double: GitHubDouble) -> None:
    double.add_token(TOKEN, repos=[REPO])
    double.faults.add(Fault(method="POST", path=ISSUES, kind="drop_after_create"))
    with (
        double.serve() as base_url,
        httpx.Client(
            base_url=base_url, headers={"Authorization": f"token {TOKEN}"}, timeout=5
        ) as client,
    ):
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("/repos/acme/mobile/issues", json={"title": "lost answer"})
        assert client.get("/repos/acme/mobile/issues").json()[0]["title"] == "lost answer"


def test_fault_rejects_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        Fault(method="GET", path="*", kind="nope")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- GraphQL

ISSUE_QUERY = """
query($owner: String!, $name: String!, $number: Int!) {
  repository(owner: $owner, name: $name) {
    issue(number: $number) {
      id number title state stateReason
      reactions(content: THUMBS_UP) { totalCount }
      labels(first: 10) { nodes { name } }
    }
  }
}
"""


def test_graphql_valid_document_executes(double: GitHubDouble, installation: int) -> None:
    seeded = double.add_issue(REPO, "Dark mode", labels=["feature-request"], thumbs_up=4)
    with install_client(double, installation) as gh:
        data = gh.graphql(ISSUE_QUERY, {"owner": "acme", "name": "mobile", "number": 1})
        node = gh.graphql(
            "query($id: ID!) { node(id: $id) { ... on Issue { number } } }",
            {"id": seeded["node_id"]},
        )
    issue = data["repository"]["issue"]
    assert issue["id"] == seeded["node_id"]
    assert issue["state"] == "OPEN"
    assert issue["reactions"]["totalCount"] == 4
    assert issue["labels"]["nodes"] == [{"name": "feature-request"}]
    assert node == {"node": {"number": 1}}
    assert double.violations == []


def test_graphql_invalid_documents_are_violations(double: GitHubDouble, installation: int) -> None:
    with install_client(double, installation) as gh:
        with pytest.raises(GraphQLFailed) as unknown_field:
            gh.graphql(
                '{ repository(owner: "acme", name: "mobile") { issue(number: 1) { votes } } }'
            )
        with pytest.raises(GraphQLFailed):
            gh.graphql(ISSUE_QUERY, {"owner": "acme", "name": "mobile"})  # $number missing
        with pytest.raises(GraphQLFailed):
            gh.graphql(
                '{ repository(owner: "acme", name: "mobile") '
                "{ issues(states: OPEN) { nodes { number } } } }"
            )  # no first/last
        with pytest.raises(GraphQLFailed):
            gh.graphql(
                '{ repository(owner: "acme", name: "mobile") '
                "{ issues(first: 101) { nodes { number } } } }"
            )
    assert "votes" in first_error(unknown_field.value).message
    assert len(double.violations) == 4
    assert all(v.startswith("POST /graphql: ") for v in double.violations)


def test_graphql_out_of_scope_repository_is_not_found(
    double: GitHubDouble, installation: int
) -> None:
    double.add_repo("other/secret")
    with install_client(double, installation) as gh, pytest.raises(GraphQLFailed) as failed:
        gh.graphql('{ repository(owner: "other", name: "secret") { id } }')
    assert first_error(failed.value).type == "NOT_FOUND"
    assert double.violations == []


def test_graphql_pluggable_resolvers(double: GitHubDouble, installation: int) -> None:
    added: list[tuple[str, str]] = []

    def add_item(_info: Any, input: dict[str, Any]) -> dict[str, Any]:
        added.append((input["projectId"], input["contentId"]))
        return {"item": {"__typename": "ProjectV2Item", "id": "PVTI_1"}}

    double.graphql_resolvers["addProjectV2ItemById"] = add_item
    mutation = (
        "mutation($p: ID!, $c: ID!) { addProjectV2ItemById(input: "
        "{projectId: $p, contentId: $c}) { item { id } } }"
    )
    with install_client(double, installation) as gh:
        data = gh.graphql(mutation, {"p": "PVT_1", "c": "I_1"})
        with pytest.raises(GraphQLFailed) as missing:
            gh.graphql('mutation { deleteIssue(input: {issueId: "I_1"}) { clientMutationId } }')
    assert data == {"addProjectV2ItemById": {"item": {"id": "PVTI_1"}}}
    assert added == [("PVT_1", "I_1")]
    assert "no resolver" in first_error(missing.value).message
    assert double.violations == []  # the double's gap is not the client's fault


def test_graphql_primary_rate_limit_answers_200(double: GitHubDouble, installation: int) -> None:
    double.faults.add(Fault(method="POST", path="/graphql", kind="primary_rate_limit"))
    with install_client(double, installation) as gh, pytest.raises(PrimaryRateLimitExceeded) as hit:
        gh.graphql(ISSUE_QUERY, {"owner": "acme", "name": "mobile", "number": 1})
    assert hit.value.response.status_code == 200
    assert hit.value.response.json()["errors"][0]["type"] == "RATE_LIMITED"


# ---------------------------------------------------------------------------- description & cost


def test_every_answer_validates_against_the_description(
    double: GitHubDouble, installation: int
) -> None:
    """One pass over every emulated operation; the fixture re-checks at teardown."""
    double.add_issue(REPO, "seed", labels=["a"], thumbs_up=2)
    double.add_pull_request(REPO, "pr")
    with install_client(double, installation) as gh:
        gh.rest.apps.get_repo_installation("acme", "mobile")
        gh.rest.repos.get("acme", "mobile")
        gh.rest.issues.create("acme", "mobile", title="t", labels=["b"])
        gh.rest.issues.list_for_repo("acme", "mobile", state="all")
        gh.rest.issues.get("acme", "mobile", 1)
        gh.rest.issues.update("acme", "mobile", 1, state="closed", state_reason="completed")
        gh.rest.issues.list_labels_for_repo("acme", "mobile")
        gh.rest.issues.create_label("acme", "mobile", name="c", color="ffffff")
        gh.rest.issues.get_label("acme", "mobile", "c")
        comment = gh.rest.issues.create_comment("acme", "mobile", 1, body="x").parsed_data
        gh.rest.issues.update_comment("acme", "mobile", comment.id, body="y")
        gh.rest.issues.list_comments("acme", "mobile", 1)
    with app_client(double) as gh:
        gh.rest.apps.get_authenticated()
    served = {(c.method, c.template) for c in double.calls if 200 <= c.status < 300}
    assert len(served) == 14
    assert double.response_violations() == []


def test_response_validation_catches_a_broken_answer(
    double: GitHubDouble, installation: int
) -> None:
    with install_client(double, installation) as gh:
        gh.rest.repos.get("acme", "mobile")
    del double.calls[-1].response["full_name"]
    assert any("full_name" in p for p in double.response_violations())
    double.calls.clear()


# ---------------------------------------------------------------------------- plugin


def test_plugin_fixture_fails_tests_that_break_the_description(tmp_path: Path) -> None:
    (tmp_path / "test_sample.py").write_text(
        textwrap.dedent("""
        import httpx, pytest

        def _post_bad(double):
            double.add_token("t0k", repos=["acme/mobile"])
            with httpx.Client(transport=double.transport, base_url="https://api.github.com",
                              headers={"Authorization": "token t0k"}) as client:
                client.post("/repos/acme/mobile/issues", json={"title": 5, "labels": "x"})

        def test_clean(github_double):
            assert github_double.issues  # nothing sent, nothing wrong

        def test_breaks_description(github_double):
            _post_bad(github_double)

        @pytest.mark.github_double_allows_violations
        def test_allowed(github_double):
            _post_bad(github_double)
    """)
    )
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "tests.github_double.plugin",
            "-q",
            "--strict-markers",
            "-p",
            "no:cacheprovider",
            str(tmp_path),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    # A teardown failure reports as an error on top of the passed call phase.
    assert "3 passed, 1 error" in result.stdout, result.stdout + result.stderr
    assert "$.labels" in result.stdout


def test_call_records_are_json_friendly(double: GitHubDouble, installation: int) -> None:
    with install_client(double, installation) as gh:
        gh.rest.issues.create("acme", "mobile", title="t")
    call = double.calls[-1]
    assert (call.method, call.path, call.status, call.auth) == (
        "POST",
        "/repos/acme/mobile/issues",
        201,
        "installation",
    )
    assert call.template == ISSUES
    assert call.query == {}
    json.dumps([call.json, call.response])
    assert call.timestamp <= time.monotonic()
