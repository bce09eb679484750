"""GitHubIssueTracker against the GitHub double (REST validated against GitHub's description)."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from bridge.ports import OutcomeUnknownError, TrackerError, TrackerNotConfiguredError
from bridge.tracker_values import IssueDraft
from github_app import kit
from github_app.client import GitHubIssueTracker
from github_app.errors import error_for_response, error_for_transport
from tests.github_double import Fault, GitHubDouble

REPO = "acme/mobile"
LABELS = ("feature-request", "app:mobile")
CREATE = ("POST", "/repos/{owner}/{repo}/issues")
LIST = ("GET", "/repos/{owner}/{repo}/issues")


class Clock:
    """Wall-clock time plus an offset the test moves (the double's tokens use wall time)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


def draft(title: str = "Dark mode", labels: tuple[str, ...] = LABELS) -> IssueDraft:
    marker = f'<!-- featurebridge:{{"app":"mobile","submission":"{uuid.uuid4()}"}} -->'
    return IssueDraft(
        repo=REPO,
        title=title,
        body=f"Please add a dark theme.\n\n{marker}",
        labels=labels,
        marker=marker,
    )


def app_tracker(double: GitHubDouble, **options: Any) -> GitHubIssueTracker:
    options.setdefault("transport", double.transport)
    return GitHubIssueTracker(
        app_id=double.app_id, private_key_pem=double.private_key_pem, **options
    )


def paths(double: GitHubDouble) -> list[tuple[str, str]]:
    return [(call.method, call.path) for call in double.calls]


def minutes_ago(minutes: float) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes)


@pytest.fixture
def double(github_double: GitHubDouble) -> GitHubDouble:
    github_double.add_installation("acme", repos=[REPO])
    return github_double


@pytest.fixture
def tracker(double: GitHubDouble) -> Iterator[GitHubIssueTracker]:
    with app_tracker(double) as tracker:
        yield tracker


@pytest.fixture
def loopback(double: GitHubDouble) -> Iterator[str]:
    with double.serve() as base_url:
        yield base_url


# --------------------------------------------------------------------------- configuration


def refuse(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"health() must not call GitHub ({request.url})")


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({}, "no GitHub credentials"),
        ({"app_id": 12}, "GITHUB_APP_PRIVATE_KEY is not"),
        ({"private_key_pem": "x"}, "GITHUB_APP_ID is not"),
        ({"app_id": 12, "private_key_pem": "not a key"}, "not a PEM RSA private key"),
        ({"token": "ghp_x", "api_url": "ftp://ghe.example.com"}, "GITHUB_API_URL"),
    ],
)
def test_health_says_why_it_is_not_configured(options: dict[str, Any], reason: str) -> None:
    tracker = GitHubIssueTracker(transport=httpx.MockTransport(refuse), **options)
    health = tracker.health()
    assert not health.configured
    assert reason in health.detail
    with pytest.raises(TrackerNotConfiguredError):
        tracker.create_issue(draft())


def test_health_when_configured_makes_no_call(double: GitHubDouble) -> None:
    tracker = app_tracker(double, api_url="https://ghe.example.com/api/v3/")
    health = tracker.health()
    assert health.configured
    assert health.detail == f"GitHub App {double.app_id} at https://ghe.example.com/api/v3"
    assert double.calls == []
    token_health = GitHubIssueTracker(token="ghp_x").health()
    assert token_health == token_health.__class__(True, "GITHUB_TOKEN at https://api.github.com")


def test_pacing_key_is_the_installation_owner_or_token(double: GitHubDouble) -> None:
    assert app_tracker(double).pacing_key("Acme/mobile") == "acme"
    assert GitHubIssueTracker(token="ghp_x").pacing_key(REPO) == "token"


def test_importing_the_client_leaves_githubkit_httpx_and_jwt_unloaded() -> None:
    code = (
        "import sys, github_app.client\n"
        "print(sorted(m for m in ('githubkit', 'httpx', 'jwt', 'cryptography') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


# --------------------------------------------------------------------------- create_issue


def test_create_issue_files_title_body_and_labels(
    tracker: GitHubIssueTracker, double: GitHubDouble
) -> None:
    assert double.labels(REPO) == []
    wanted = draft()
    issue = tracker.create_issue(wanted)
    [filed] = double.issues(REPO)
    assert filed["title"] == wanted.title
    assert filed["body"] == wanted.body
    assert [label["name"] for label in filed["labels"]] == list(LABELS)
    assert {label["name"] for label in double.labels(REPO)} == set(LABELS)  # created
    assert issue.repo == REPO
    assert issue.number == filed["number"]
    assert issue.url == filed["html_url"]
    assert issue.title == wanted.title
    assert issue.body == wanted.body
    assert issue.labels == LABELS
    assert issue.state == "open"
    assert issue.state_reason is None
    assert issue.thumbs_up == 0
    assert issue.created_at.tzinfo is not None
    assert double.violations == []


def test_cold_start_costs_three_requests_and_a_warm_create_one(
    tracker: GitHubIssueTracker, double: GitHubDouble
) -> None:
    tracker.create_issue(draft())
    installation = double.calls[0].response["id"]
    assert paths(double) == [
        ("GET", "/repos/acme/mobile/installation"),
        ("POST", f"/app/installations/{installation}/access_tokens"),
        ("POST", "/repos/acme/mobile/issues"),
    ]
    assert [call.auth for call in double.calls] == ["jwt", "jwt", "installation"]
    for _ in range(3):
        before = len(double.calls)
        tracker.create_issue(draft())
        assert paths(double)[before:] == [("POST", "/repos/acme/mobile/issues")]
    assert {call.api_version for call in double.calls} == {"2022-11-28"}


def test_token_credentials_create_in_one_request(double: GitHubDouble) -> None:
    double.add_token("ghp_plain", repos=["octo/app"])
    with GitHubIssueTracker(token="ghp_plain", transport=double.transport) as tracker:
        issue = tracker.create_issue(
            IssueDraft("octo/app", "Export", "body <!-- m -->", ("x",), "<!-- m -->")
        )
    assert issue.number == 1
    assert paths(double) == [("POST", "/repos/octo/app/issues")]
    assert double.calls[0].auth == "token"


def test_token_is_refreshed_shortly_before_it_expires(
    double: GitHubDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The double judges JWTs by the wall clock, so the tracker's clock may only move a
    # little: make the double's tokens live 5 min + 20 s instead of an hour.
    monkeypatch.setattr("tests.github_double.auth.TOKEN_LIFETIME", 320)
    clock = Clock()
    tracker = app_tracker(double, clock=clock)
    tracker.create_issue(draft())
    clock.offset = 15
    tracker.create_issue(draft())
    assert sum(path.endswith("/access_tokens") for _, path in paths(double)) == 1
    clock.offset = 25  # within five minutes of expires_at
    tracker.create_issue(draft())
    assert sum(path.endswith("/access_tokens") for _, path in paths(double)) == 2
    assert sum(path.endswith("/installation") for _, path in paths(double)) == 1


def test_rejected_token_fails_once_then_a_fresh_one_is_fetched(
    tracker: GitHubIssueTracker, double: GitHubDouble
) -> None:
    tracker.create_issue(draft())
    double.expire_tokens()
    with pytest.raises(TrackerError, match="401") as caught:
        tracker.create_issue(draft())
    assert not isinstance(caught.value, OutcomeUnknownError)
    before = len(double.calls)
    tracker.create_issue(draft())
    assert [path for _, path in paths(double)[before:]][-2:] == [
        f"/app/installations/{double.calls[0].response['id']}/access_tokens",
        "/repos/acme/mobile/issues",
    ]


def test_one_http_client_serves_every_thread(
    tracker: GitHubIssueTracker, double: GitHubDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[object] = []
    original = kit.SharedGitHub._create_sync_client

    def counting(self: kit.SharedGitHub) -> httpx.Client:
        client = original(self)
        built.append(client)
        return client

    monkeypatch.setattr(kit.SharedGitHub, "_create_sync_client", counting)
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def work() -> None:
        start.wait()
        try:
            tracker.find_issue_by_marker(REPO, "nothing", created_since=minutes_ago(5))
            tracker.create_issue(draft())
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(built) == 1
    assert sum(path.endswith("/access_tokens") for _, path in paths(double)) == 1
    assert len(double.issues(REPO)) == 8


def test_close_then_use_again(tracker: GitHubIssueTracker) -> None:
    tracker.create_issue(draft())
    tracker.close()
    tracker.close()
    assert tracker.create_issue(draft()).number == 2


# --------------------------------------------------------------------------- failures


@pytest.mark.parametrize(
    ("fault", "retry_after"),
    [
        (Fault(*CREATE, kind="server_error"), None),
        (Fault(*CREATE, kind="server_error", status=503), None),
        (Fault(*CREATE, kind="secondary_rate_limit", retry_after=30), 30),
        (Fault(*CREATE, kind="secondary_rate_limit", status=429, retry_after=7), 7),
        (Fault(*CREATE, kind="secondary_rate_limit", send_retry_after=False), 60),
        (Fault(*CREATE, kind="primary_rate_limit", retry_after=120), 120),
        (Fault(*CREATE, kind="primary_rate_limit", retry_after=-30), 1),
    ],
)
def test_create_failure_becomes_tracker_error_with_retry_after(
    tracker: GitHubIssueTracker, double: GitHubDouble, fault: Fault, retry_after: float | None
) -> None:
    tracker.create_issue(draft())  # warm
    double.faults.add(fault)
    with pytest.raises(TrackerError) as caught:
        tracker.create_issue(draft())
    error = caught.value
    assert not isinstance(error, OutcomeUnknownError)
    if retry_after is None:
        assert error.retry_after is None
    else:
        assert error.retry_after == pytest.approx(retry_after, abs=2)
    assert tracker.create_issue(draft()).number == 2
    assert len(double.issues(REPO)) == 2


def test_rate_limit_on_the_token_fetch(tracker: GitHubIssueTracker, double: GitHubDouble) -> None:
    double.faults.add(
        Fault("POST", "/app/installations/{installation_id}/access_tokens", "secondary_rate_limit")
    )
    with pytest.raises(TrackerError) as caught:
        tracker.create_issue(draft())
    assert caught.value.retry_after == 60
    assert double.issues(REPO) == []


@pytest.mark.parametrize("transport", ["in-process", "loopback"])
def test_lost_answer_to_a_create_is_outcome_unknown_and_the_marker_finds_it(
    double: GitHubDouble, loopback: str, transport: str
) -> None:
    if transport == "loopback":
        tracker = app_tracker(double, api_url=loopback, transport=None)
    else:
        tracker = app_tracker(double)
    since = minutes_ago(1)
    tracker.find_issue_by_marker(REPO, "warm-up", created_since=since)
    double.faults.add(Fault(*CREATE, kind="drop_after_create"))
    lost = draft()
    with pytest.raises(OutcomeUnknownError):
        tracker.create_issue(lost)
    found = tracker.find_issue_by_marker(REPO, lost.marker, created_since=since)
    assert found is not None
    assert [issue["number"] for issue in double.issues(REPO)] == [found.number]
    assert found.title == lost.title
    tracker.close()


def test_timeout_on_a_create_is_outcome_unknown(double: GitHubDouble, loopback: str) -> None:
    tracker = app_tracker(double, api_url=loopback, transport=None, timeout=0.2)
    tracker.find_issue_by_marker(REPO, "warm-up", created_since=minutes_ago(1))
    double.faults.add(Fault(*CREATE, kind="slow", delay=0.5))
    slow = draft()
    with pytest.raises(OutcomeUnknownError, match="timed out"):
        tracker.create_issue(slow)
    time.sleep(0.5)  # the double finishes the create after its delay
    assert tracker.find_issue_by_marker(REPO, slow.marker, created_since=minutes_ago(1))
    tracker.close()


def test_timeout_on_a_read_is_a_plain_tracker_error(double: GitHubDouble, loopback: str) -> None:
    tracker = app_tracker(double, api_url=loopback, transport=None, timeout=0.2)
    tracker.find_issue_by_marker(REPO, "warm-up", created_since=minutes_ago(1))
    double.faults.add(Fault(*LIST, kind="slow", delay=0.5))
    with pytest.raises(TrackerError) as caught:
        tracker.find_issue_by_marker(REPO, "x", created_since=minutes_ago(1))
    assert not isinstance(caught.value, OutcomeUnknownError)
    time.sleep(0.5)
    tracker.close()


def test_server_error_on_a_read(tracker: GitHubIssueTracker, double: GitHubDouble) -> None:
    tracker.find_issue_by_marker(REPO, "warm-up", created_since=minutes_ago(1))
    double.faults.add(Fault(*LIST, kind="server_error"))
    with pytest.raises(TrackerError) as caught:
        tracker.find_issue_by_marker(REPO, "x", created_since=minutes_ago(1))
    assert caught.value.retry_after is None


def test_unreachable_github_on_a_create_is_not_outcome_unknown() -> None:
    tracker = GitHubIssueTracker(token="ghp_x", api_url="http://127.0.0.1:9", timeout=2)
    with pytest.raises(TrackerError) as caught:
        tracker.create_issue(draft())
    assert not isinstance(caught.value, OutcomeUnknownError)


def test_app_not_installed_on_the_repo(tracker: GitHubIssueTracker, double: GitHubDouble) -> None:
    double.add_repo("acme/secret")
    with pytest.raises(TrackerError, match="App is not installed on acme/secret"):
        tracker.create_issue(IssueDraft("acme/secret", "t", "b", (), "m"))
    with pytest.raises(TrackerError, match="App is not installed on initech/x"):
        tracker.find_issue_by_marker("initech/x", "m", created_since=minutes_ago(1))


def test_token_cannot_see_the_repo(double: GitHubDouble) -> None:
    double.add_token("ghp_plain", repos=["octo/app"])
    tracker = GitHubIssueTracker(token="ghp_plain", transport=double.transport)
    with pytest.raises(TrackerError, match="acme/mobile does not exist, or the token cannot"):
        tracker.create_issue(draft())


def test_validation_failure_carries_githubs_message(
    tracker: GitHubIssueTracker, double: GitHubDouble
) -> None:
    with pytest.raises(TrackerError) as caught:
        tracker.create_issue(draft(title="x" * 300))
    message = str(caught.value)
    assert "(422)" in message
    assert "Validation Failed" in message
    assert "title" in message
    assert caught.value.retry_after is None


# --------------------------------------------------------------------------- find_issue_by_marker


def seed(double: GitHubDouble, count: int, *, start: datetime, body: str = "") -> None:
    for n in range(count):
        double.add_issue(
            REPO,
            title=f"seeded {n}",
            body=body,
            labels=LABELS,
            created_at=start + timedelta(seconds=n),
        )


def list_calls(double: GitHubDouble) -> int:
    return sum(
        1
        for method, path in paths(double)
        if (method, path) == ("GET", "/repos/acme/mobile/issues")
    )


def test_marker_search_pages_past_100_issues(
    tracker: GitHubIssueTracker, double: GitHubDouble
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    wanted = draft()
    double.add_issue(
        REPO,
        title="the one",
        body=f"x {wanted.marker}",
        created_at=now - timedelta(hours=1),
        user_login="featurebridge[bot]",
    )
    seed(double, 150, start=now - timedelta(minutes=30))
    found = tracker.find_issue_by_marker(
        REPO, wanted.marker, created_since=now - timedelta(hours=2)
    )
    assert found is not None
    assert found.title == "the one"
    assert list_calls(double) == 2
    listing = [c for c in double.calls if c.path == "/repos/acme/mobile/issues"]
    assert listing[0].query == {
        "state": "all",
        "sort": "created",
        "direction": "desc",
        "per_page": "100",
    }


def test_marker_search_stops_at_created_since(
    tracker: GitHubIssueTracker, double: GitHubDouble
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    wanted = draft()
    seed(double, 150, start=now - timedelta(days=2), body=wanted.body)  # too old to count
    seed(double, 120, start=now - timedelta(minutes=30))
    found = tracker.find_issue_by_marker(
        REPO, wanted.marker, created_since=now - timedelta(hours=1)
    )
    assert found is None
    assert list_calls(double) == 2  # not 3: page 2 reached an issue older than created_since


def test_marker_search_skips_pull_requests(
    tracker: GitHubIssueTracker, double: GitHubDouble
) -> None:
    wanted = draft()
    pull = double.add_pull_request(REPO, title="a PR quoting the marker")
    double.update_issue(REPO, pull["number"], body=wanted.body)
    assert tracker.find_issue_by_marker(REPO, wanted.marker, created_since=minutes_ago(5)) is None
    issue = tracker.create_issue(wanted)
    found = tracker.find_issue_by_marker(REPO, wanted.marker, created_since=minutes_ago(5))
    assert found == issue


def test_marker_search_on_an_empty_repo(tracker: GitHubIssueTracker, double: GitHubDouble) -> None:
    assert tracker.find_issue_by_marker(REPO, "m", created_since=minutes_ago(5)) is None
    assert list_calls(double) == 1


# ------------------------------------------------------------------ GitHub Enterprise Server


class PathPrefix(httpx.BaseTransport):
    """GitHub Enterprise Server serves the API under ``/api/v3``: strip it for the double."""

    def __init__(self, inner: httpx.BaseTransport, prefix: str) -> None:
        self.inner = inner
        self.prefix = prefix
        self.seen: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(str(request.url))
        raw = request.url.raw_path
        assert raw.startswith(self.prefix.encode() + b"/"), raw
        inner = httpx.Request(
            request.method,
            request.url.copy_with(raw_path=raw[len(self.prefix) :]),
            headers=request.headers,
            content=request.content,
        )
        response = self.inner.handle_request(inner)
        if "link" in response.headers:
            origin = f"{request.url.scheme}://{request.url.netloc.decode()}"
            response.headers["link"] = response.headers["link"].replace(
                f"<{origin}/", f"<{origin}{self.prefix}/"
            )
        return response


def test_enterprise_server_url_prefix(double: GitHubDouble) -> None:
    transport = PathPrefix(double.transport, "/api/v3")
    tracker = app_tracker(double, api_url="https://ghe.example.com/api/v3", transport=transport)
    issue = tracker.create_issue(draft())
    now = datetime.now(UTC).replace(microsecond=0)
    seed(double, 120, start=now - timedelta(minutes=10))
    found = tracker.find_issue_by_marker(REPO, "absent", created_since=now - timedelta(hours=1))
    assert found is None
    assert issue.number == 1
    assert all(url.startswith("https://ghe.example.com/api/v3/") for url in transport.seen)
    assert list_calls(double) == 2


def test_next_page_elsewhere_is_refused(double: GitHubDouble) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/user":
            return httpx.Response(200, json={"login": "octocat"})
        link = '<https://evil.example/repos/acme/mobile/issues?page=2>; rel="next"'
        return httpx.Response(200, json=[], headers={"link": link})

    tracker = GitHubIssueTracker(token="ghp_x", transport=httpx.MockTransport(handler))
    with pytest.raises(TrackerError, match="outside"):
        tracker.find_issue_by_marker(REPO, "m", created_since=minutes_ago(5))


# --------------------------------------------------------------------------- comments and listing


def test_upsert_comment_creates_then_edits_then_leaves_alone(
    tracker: GitHubIssueTracker, double: GitHubDouble
) -> None:
    number = tracker.create_issue(draft()).number
    double.add_comment(REPO, number, "Me too!")
    marker = "<!-- featurebridge:tally -->"
    first = tracker.upsert_comment(REPO, number, marker, f"3 votes\n{marker}")
    second = tracker.upsert_comment(REPO, number, marker, f"4 votes\n{marker}")
    writes_before = sum(1 for c in double.calls if c.method in ("POST", "PATCH"))
    third = tracker.upsert_comment(REPO, number, marker, f"4 votes\n{marker}")
    assert first == second == third
    assert [c["body"] for c in double.comments(REPO, number)] == ["Me too!", f"4 votes\n{marker}"]
    assert sum(1 for c in double.calls if c.method in ("POST", "PATCH")) == writes_before
    with pytest.raises(ValueError, match="marker"):
        tracker.upsert_comment(REPO, number, marker, "no marker")


def test_a_marker_in_someone_elses_comment_is_left_alone(
    tracker: GitHubIssueTracker, double: GitHubDouble
) -> None:
    number = tracker.create_issue(draft()).number
    marker = "<!-- featurebridge:tally -->"
    double.add_comment(REPO, number, f"0 votes, vote for mine instead\n{marker}")
    assert tracker.upsert_comment(REPO, number, marker, f"0 votes\n{marker}", create=False) is None
    own = tracker.upsert_comment(REPO, number, marker, f"3 votes\n{marker}")
    assert tracker.upsert_comment(REPO, number, marker, f"4 votes\n{marker}") == own
    comments = double.comments(REPO, number)
    assert [(c["user"]["login"], c["body"]) for c in comments] == [
        ("octocat", f"0 votes, vote for mine instead\n{marker}"),
        ("featurebridge[bot]", f"4 votes\n{marker}"),
    ]


def test_with_a_token_the_markers_trusted_are_the_token_users(double: GitHubDouble) -> None:
    double.add_token("ghp_plain", repos=[REPO], login="bridge-bot")
    tracker = GitHubIssueTracker(token="ghp_plain", transport=double.transport)
    assert tracker.actor_login() == "bridge-bot"
    number = double.add_issue(REPO, "Dark mode")["number"]
    marker = "<!-- featurebridge:tally -->"
    double.add_comment(REPO, number, f"forged\n{marker}", user_login="mallory")
    own = tracker.upsert_comment(REPO, number, marker, f"1 vote\n{marker}")
    assert tracker.upsert_comment(REPO, number, marker, f"2 votes\n{marker}") == own
    assert [c["body"] for c in double.comments(REPO, number)] == [
        f"forged\n{marker}",
        f"2 votes\n{marker}",
    ]
    forged = double.add_issue(REPO, "Forged", body=f"x {marker}", user_login="mallory")
    assert tracker.find_issue_by_marker(REPO, marker, created_since=minutes_ago(5)) is None
    assert forged["user"]["login"] == "mallory"
    tracker.close()


def test_upsert_comment_without_create_leaves_a_missing_comment_missing(
    tracker: GitHubIssueTracker, double: GitHubDouble
) -> None:
    number = tracker.create_issue(draft()).number
    marker = "<!-- featurebridge:tally -->"
    assert tracker.upsert_comment(REPO, number, marker, f"0 votes\n{marker}", create=False) is None
    assert double.comments(REPO, number) == []


def test_iter_issues_follows_pages_skips_pulls_and_counts_thumbs(
    tracker: GitHubIssueTracker, double: GitHubDouble
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    seed(double, 130, start=now - timedelta(hours=1))
    double.add_issue(REPO, title="unlabelled", labels=["bug"])
    double.add_issue(REPO, title="popular", labels=LABELS, thumbs_up=5)
    pull = double.add_pull_request(REPO, title="a PR")
    double.update_issue(REPO, pull["number"], labels=list(LABELS))
    double.close_issue(REPO, 1, state_reason="not_planned")
    issues = list(tracker.iter_issues(REPO, LABELS))
    assert len(issues) == 131
    assert {issue.title for issue in issues} >= {"popular", "seeded 0"}
    assert next(i for i in issues if i.title == "popular").thumbs_up == 5
    closed = next(i for i in issues if i.number == 1)
    assert (closed.state, closed.state_reason) == ("closed", "not_planned")
    assert closed.closed_at is not None
    assert list_calls(double) == 2
    recent = list(tracker.iter_issues(REPO, LABELS, state="open", since=now + timedelta(days=1)))
    assert recent == []


# --------------------------------------------------------------------------- secrets


def test_no_secret_in_errors_or_logs(
    double: GitHubDouble, loopback: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    tracker = app_tracker(double)
    messages: list[str] = []

    def attempt(action: Any) -> None:
        try:
            action()
        except Exception as exc:
            chain: BaseException | None = exc
            while chain is not None:
                messages.append(f"{chain!s} {chain!r}")
                chain = chain.__cause__ or chain.__context__

    tracker.create_issue(draft())
    for kind in ("server_error", "secondary_rate_limit", "primary_rate_limit", "drop_after_create"):
        double.faults.add(Fault(*CREATE, kind=kind))  # type: ignore[arg-type]
        attempt(lambda: tracker.create_issue(draft()))
    double.expire_tokens()
    attempt(lambda: tracker.create_issue(draft()))
    attempt(lambda: tracker.create_issue(draft(title="x" * 300)))
    attempt(lambda: tracker.find_issue_by_marker("acme/none", "m", created_since=minutes_ago(1)))
    slow = app_tracker(double, api_url=loopback, transport=None, timeout=0.2)
    double.faults.add(Fault(*CREATE, kind="slow", delay=0.5))
    attempt(lambda: slow.create_issue(draft()))
    broken = GitHubIssueTracker(app_id=1, private_key_pem=double.private_key_pem[:200] + "x")
    attempt(lambda: broken.create_issue(draft()))
    time.sleep(0.5)
    slow.close()

    tokens = [c.response["token"] for c in double.calls if c.path.endswith("/access_tokens")]
    key_lines = [line for line in double.private_key_pem.splitlines() if "PRIVATE KEY" not in line]
    assert len(tokens) >= 2
    assert len(messages) >= 9
    text = "\n".join(messages + [r.getMessage() for r in caplog.records] + [repr(tracker)])
    for secret in [*tokens, *key_lines, "eyJ", "Bearer"]:
        assert secret not in text


# --------------------------------------------------------------------------- error mapping


def response_error(status: int, headers: dict[str, str], body: Any) -> Any:
    return error_for_response(
        status,
        httpx.Headers(headers),
        body,
        action="create an issue in acme/mobile",
        now=1000.0,
        not_found="the App is not installed on acme/mobile",
    )


@pytest.mark.parametrize(
    ("status", "headers", "body", "retry_after", "words"),
    [
        (500, {}, {"message": "Server Error"}, None, "(500)"),
        (502, {}, None, None, "(502)"),
        (403, {"Retry-After": "17"}, {"message": "slow down"}, 17, "rate-limited"),
        (429, {}, {}, 60, "rate-limited"),
        (403, {}, {"message": "You have exceeded a secondary rate limit"}, 60, "secondary"),
        (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1090"}, {}, 90, "rate-limited"),
        (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "900"}, {}, 1, "rate-limited"),
        (403, {}, {"message": "Resource not accessible by integration"}, None, "not accessible"),
        (401, {}, {"message": "Bad credentials"}, None, "rejected the credentials"),
        (404, {}, {"message": "Not Found"}, None, "App is not installed on acme/mobile"),
        (410, {}, {"message": "Issues are disabled for this repo"}, None, "Issues are disabled"),
        (
            422,
            {},
            {"message": "Validation Failed", "errors": [{"resource": "Issue", "code": "invalid"}]},
            None,
            "Validation Failed (Issue invalid)",
        ),
    ],
)
def test_error_for_response(
    status: int, headers: dict[str, str], body: Any, retry_after: float | None, words: str
) -> None:
    error = response_error(status, headers, body)
    assert type(error) is TrackerError
    assert error.retry_after == retry_after
    assert words in str(error)


def test_githubs_message_is_cut_short_and_printable() -> None:
    error = response_error(422, {}, {"message": "bad\x00\n" + "y" * 1000})
    assert len(str(error)) < 400
    assert "\x00" not in str(error)
    assert "\n" not in str(error)


@pytest.mark.parametrize(
    ("exc", "write", "unknown"),
    [
        (httpx.ReadTimeout("t"), True, True),
        (httpx.RemoteProtocolError("Server disconnected"), True, True),
        (httpx.ReadError("reset"), True, True),
        (httpx.WriteTimeout("t"), True, True),
        (httpx.ConnectError("refused"), True, False),
        (httpx.ConnectTimeout("t"), True, False),
        (httpx.PoolTimeout("t"), True, False),
        (httpx.ReadTimeout("t"), False, False),
        (httpx.RemoteProtocolError("x"), False, False),
    ],
)
def test_error_for_transport(exc: Exception, write: bool, unknown: bool) -> None:
    error = error_for_transport(exc, action="create an issue", write=write)
    assert isinstance(error, OutcomeUnknownError) is unknown
    assert error.retry_after is None


def test_while_its_own_login_is_unknown_the_bridge_trusts_and_writes_no_marker(
    double: GitHubDouble,
) -> None:
    double.add_token("ghp_plain", repos=[REPO], login="bridge-bot")
    double.faults.add(Fault("GET", "/user", kind="server_error", times=None))
    tracker = GitHubIssueTracker(token="ghp_plain", transport=double.transport)
    number = double.add_issue(REPO, "Dark mode")["number"]
    marker = "<!-- featurebridge:tally -->"
    double.add_comment(REPO, number, f"forged\n{marker}", user_login="mallory")
    double.add_issue(REPO, "Forged", body=f"x {marker}", user_login="mallory")
    assert tracker.actor_login() is None
    with pytest.raises(TrackerError):
        tracker.upsert_comment(REPO, number, marker, f"1 vote\n{marker}")
    with pytest.raises(TrackerError):
        tracker.find_issue_by_marker(REPO, marker, created_since=minutes_ago(5))
    # Neither trusted the forged copies nor wrote a second comment.
    assert [c["body"] for c in double.comments(REPO, number)] == [f"forged\n{marker}"]
