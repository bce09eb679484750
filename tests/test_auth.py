"""GitHub App JWTs, installation lookup and the installation-token cache."""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bridge.ports import TrackerError, TrackerNotConfiguredError
from github_app.auth import (
    AppCredentials,
    TokenCredentials,
    load_private_key,
    make_app_jwt,
    split_repo,
)

NOW = 1_750_000_000.0
APP_ID = 4242
NO_TIME_CHECKS = {"verify_exp": False, "verify_iat": False}


@pytest.fixture(scope="module")
def key_pair() -> tuple[str, Any]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,  # what GitHub hands out
        serialization.NoEncryption(),
    ).decode()
    return pem, key.public_key()


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class FakeAppEndpoints:
    """Just enough of GitHub for the App flow, over an httpx.MockTransport."""

    def __init__(self, clock: Clock, *, delay: float = 0.0, lifetime: float = 3600) -> None:
        self.clock = clock
        self.delay = delay
        self.lifetime = lifetime
        self.installations = {"acme": 11, "globex": 22}
        self.calls: list[tuple[str, str, str]] = []
        self.issued: list[str] = []
        self._lock = threading.Lock()

    def handle(self, request: httpx.Request) -> httpx.Response:
        time.sleep(self.delay)
        path = request.url.path
        with self._lock:
            self.calls.append((request.method, path, request.headers["Authorization"]))
        parts = path.strip("/").split("/")
        if request.method == "GET" and parts[0] == "repos" and parts[-1] == "installation":
            installation = self.installations.get(parts[1])
            if installation is None:
                return httpx.Response(404, json={"message": "Not Found"})
            return httpx.Response(200, json={"id": installation, "account": {"login": parts[1]}})
        if request.method == "POST" and parts[:2] == ["app", "installations"]:
            with self._lock:
                token = f"ghs_secret{len(self.issued) + 1:04d}"
                self.issued.append(token)
            expires = datetime.fromtimestamp(self.clock() + self.lifetime, UTC)
            return httpx.Response(
                201, json={"token": token, "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%SZ")}
            )
        return httpx.Response(404, json={"message": "Not Found"})

    def count(self, method: str, suffix: str) -> int:
        return sum(1 for m, p, _ in self.calls if m == method and p.endswith(suffix))


def api_over(endpoints: FakeAppEndpoints) -> Any:
    client = httpx.Client(
        base_url="https://api.github.test", transport=httpx.MockTransport(endpoints.handle)
    )

    def call(method: str, path: str, *, authorization: str, repo: str) -> Any:
        response = client.request(method, path, headers={"Authorization": authorization})
        if response.is_error:
            raise TrackerError(f"{response.status_code} for {repo}")
        return response.json()

    return call


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def endpoints(clock: Clock) -> FakeAppEndpoints:
    return FakeAppEndpoints(clock)


@pytest.fixture
def app(key_pair: tuple[str, Any], endpoints: FakeAppEndpoints, clock: Clock) -> AppCredentials:
    return AppCredentials(APP_ID, key_pair[0], api=api_over(endpoints), clock=clock)


# --------------------------------------------------------------------------- JWT


def test_jwt_claims_verify_with_the_public_key(key_pair: tuple[str, Any]) -> None:
    pem, public_key = key_pair
    token = make_app_jwt(APP_ID, pem, now=NOW)
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    claims = jwt.decode(token, public_key, algorithms=["RS256"], options=NO_TIME_CHECKS)
    assert claims == {"iat": int(NOW) - 60, "exp": int(NOW) + 540, "iss": str(APP_ID)}


def test_jwt_is_valid_now_for_github(key_pair: tuple[str, Any]) -> None:
    pem, public_key = key_pair
    token = make_app_jwt("77", pem, now=time.time())
    claims = jwt.decode(token, public_key, algorithms=["RS256"], issuer="77")
    assert claims["exp"] - claims["iat"] <= 600  # GitHub's maximum lifetime


def test_app_jwt_is_reused_for_eight_minutes_then_signed_again(
    app: AppCredentials, clock: Clock
) -> None:
    first = app.app_jwt()
    clock.now += 479
    assert app.app_jwt() == first
    clock.now += 2
    assert app.app_jwt() != first


def test_app_calls_are_signed_with_the_app_jwt(
    app: AppCredentials, endpoints: FakeAppEndpoints, key_pair: tuple[str, Any]
) -> None:
    app.authorization("acme/mobile")
    for _, _, header in endpoints.calls:
        scheme, _, token = header.partition(" ")
        assert scheme == "Bearer"
        claims = jwt.decode(
            token,
            key_pair[1],
            algorithms=["RS256"],
            options={"verify_exp": False, "verify_iat": False},
        )
        assert claims["iss"] == str(APP_ID)


# ------------------------------------------------------------------ installations and tokens


def test_cold_start_costs_one_lookup_and_one_token(
    app: AppCredentials, endpoints: FakeAppEndpoints
) -> None:
    header = app.authorization("acme/mobile")
    assert header == "Bearer ghs_secret0001"
    assert [(m, p) for m, p, _ in endpoints.calls] == [
        ("GET", "/repos/acme/mobile/installation"),
        ("POST", "/app/installations/11/access_tokens"),
    ]
    assert app.authorization("acme/mobile") == header
    assert len(endpoints.calls) == 2


def test_installation_is_cached_per_repo_and_token_per_installation(
    app: AppCredentials, endpoints: FakeAppEndpoints
) -> None:
    a = app.authorization("acme/mobile")
    b = app.authorization("acme/web")
    c = app.authorization("globex/app")
    assert a == b != c
    assert endpoints.count("GET", "/installation") == 3
    assert endpoints.count("POST", "/access_tokens") == 2
    assert app.installation_id("ACME/Mobile") == 11  # owner/repo are case-insensitive
    assert endpoints.count("GET", "/installation") == 3


def test_token_is_refreshed_five_minutes_before_it_expires(
    app: AppCredentials, endpoints: FakeAppEndpoints, clock: Clock
) -> None:
    first = app.authorization("acme/mobile")
    clock.now += 3600 - 301
    assert app.authorization("acme/mobile") == first
    clock.now += 2  # now within five minutes of expires_at
    second = app.authorization("acme/mobile")
    assert second != first
    assert endpoints.count("POST", "/access_tokens") == 2
    assert endpoints.count("GET", "/installation") == 1


def test_short_lived_token_is_not_reused_past_its_refresh_point(
    key_pair: tuple[str, Any], clock: Clock
) -> None:
    endpoints = FakeAppEndpoints(clock, lifetime=200)  # less than the 5 min margin
    app = AppCredentials(APP_ID, key_pair[0], api=api_over(endpoints), clock=clock)
    app.authorization("acme/mobile")
    app.authorization("acme/mobile")
    assert endpoints.count("POST", "/access_tokens") == 2


def test_many_threads_share_one_fetch(key_pair: tuple[str, Any], clock: Clock) -> None:
    endpoints = FakeAppEndpoints(clock, delay=0.05)
    app = AppCredentials(APP_ID, key_pair[0], api=api_over(endpoints), clock=clock)
    start = threading.Barrier(16)
    headers: list[str] = []

    def ask() -> None:
        start.wait()
        headers.append(app.authorization("acme/mobile"))

    threads = [threading.Thread(target=ask) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(headers) == 16
    assert set(headers) == {"Bearer ghs_secret0001"}
    assert endpoints.count("GET", "/installation") == 1
    assert endpoints.count("POST", "/access_tokens") == 1


def test_refresh_under_load_fetches_once(key_pair: tuple[str, Any], clock: Clock) -> None:
    endpoints = FakeAppEndpoints(clock, delay=0.02)
    app = AppCredentials(APP_ID, key_pair[0], api=api_over(endpoints), clock=clock)
    app.authorization("acme/mobile")
    clock.now += 3400
    start = threading.Barrier(8)
    threads = [
        threading.Thread(target=lambda: (start.wait(), app.authorization("acme/mobile")))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert endpoints.count("POST", "/access_tokens") == 2


def test_rejected_token_is_dropped_unless_already_replaced(
    app: AppCredentials, endpoints: FakeAppEndpoints
) -> None:
    first = app.authorization("acme/mobile")
    app.token_rejected("acme/mobile", first)
    second = app.authorization("acme/mobile")
    assert second != first
    app.token_rejected("acme/mobile", first)  # a late 401 for the old token
    assert app.authorization("acme/mobile") == second
    assert endpoints.count("POST", "/access_tokens") == 2
    assert endpoints.count("GET", "/installation") == 1


def test_repo_not_found_resolves_the_installation_again(
    app: AppCredentials, endpoints: FakeAppEndpoints
) -> None:
    app.authorization("acme/mobile")
    app.repo_not_found("acme/mobile")
    endpoints.installations["acme"] = 33  # reinstalled
    assert app.installation_id("acme/mobile") == 33
    app.authorization("acme/mobile")
    assert endpoints.count("POST", "/app/installations/33/access_tokens") == 1


def test_uninstalled_repo_raises_and_is_not_cached(
    app: AppCredentials, endpoints: FakeAppEndpoints
) -> None:
    with pytest.raises(TrackerError):
        app.authorization("initech/app")
    endpoints.installations["initech"] = 44
    assert app.installation_id("initech/app") == 44


def test_pacing_key_is_the_installation_owner(app: AppCredentials) -> None:
    assert app.pacing_key("Acme/mobile") == "acme"
    assert TokenCredentials("ghp_x").pacing_key("acme/mobile") == "token"


# ------------------------------------------------------------------ configuration and secrets


def test_bad_private_key_is_a_configuration_error_without_key_text(clock: Clock) -> None:
    pem = (
        "-----BEGIN RSA PRIVATE KEY-----\n"
        "c2VjcmV0LWtleS1tYXRlcmlhbA==\n"
        "-----END RSA PRIVATE KEY-----"
    )
    app = AppCredentials(APP_ID, pem, api=api_over(FakeAppEndpoints(clock)), clock=clock)
    with pytest.raises(TrackerNotConfiguredError) as caught:
        app.check()
    assert "c2VjcmV0" not in str(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_non_numeric_app_id_is_a_configuration_error(key_pair: tuple[str, Any]) -> None:
    app = AppCredentials("my-app", key_pair[0], api=lambda *a, **k: None)
    with pytest.raises(TrackerNotConfiguredError, match="GITHUB_APP_ID"):
        app.check()


def test_key_with_escaped_newlines_is_accepted(key_pair: tuple[str, Any]) -> None:
    flattened = key_pair[0].strip().replace("\n", "\\n")
    assert load_private_key(flattened).key_size == 2048


def test_token_credentials(caplog: pytest.LogCaptureFixture) -> None:
    creds = TokenCredentials(" ghp_secret \n")
    assert creds.authorization("acme/mobile") == "Bearer ghp_secret"
    assert "ghp_secret" not in repr(creds)
    creds.check()
    with pytest.raises(TrackerNotConfiguredError):
        TokenCredentials("  ").check()


def test_secrets_stay_out_of_logs_and_reprs(
    app: AppCredentials,
    endpoints: FakeAppEndpoints,
    key_pair: tuple[str, Any],
    caplog: pytest.LogCaptureFixture,
    clock: Clock,
) -> None:
    caplog.set_level(logging.DEBUG)
    header = app.authorization("acme/mobile")
    app.token_rejected("acme/mobile", header)
    app.authorization("acme/mobile")
    secrets = [*endpoints.issued, app.app_jwt(), "PRIVATE KEY", key_pair[0].splitlines()[1]]
    text = "\n".join(r.getMessage() for r in caplog.records) + repr(app)
    assert caplog.records  # it does log, just not secrets
    for secret in secrets:
        assert secret not in text


@pytest.mark.parametrize(
    "repo", ["acme", "acme/", "/mobile", "acme/mobile/x", "acme/mo bile", "../x/y", ""]
)
def test_split_repo_rejects_malformed_names(repo: str) -> None:
    with pytest.raises(TrackerError):
        split_repo(repo)


def test_split_repo() -> None:
    assert split_repo("acme/mobile.app") == ("acme", "mobile.app")
