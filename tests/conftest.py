"""Shared fixtures: settings from TOML text, a SQLite index, a wired Flask app."""

from __future__ import annotations

import json
import logging
import os
import re
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bridge import logs
from bridge.app import build_runtime, create_app
from bridge.runtime import Runtime
from bridge.settings import Settings
from bridge.stores.sqlite import SQLiteStore
from github_app.client import GitHubIssueTracker
from tests.fakes import FakeClock, FakeTracker, RecordingQueue
from tests.github_double import GitHubDouble
from tests.voter_tokens import MOBILE_SECRET, WEB_SECRET

pytest_plugins = ["tests.github_double.plugin", "tests.moto_server"]

# Nothing in the suite may reach AWS or GitHub for real.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

CONFIG = """
[server]
public_url = "https://feedback.example.com"
inline_delivery_seconds = 2

[[apps]]
id = "mobile"
name = "Acme Mobile"
repo = "acme/mobile"
labels = ["feature-request", "app:mobile"]
allowed_origins = ["https://app.acme.example"]
public = true
# The shared apps test everything but moderation (tests/test_moderation_*.py test that).
moderation = "none"
voter_secret_env = "MOBILE_VOTER_SECRET"
form_secret_env = "MOBILE_FORM_SECRET"

[apps.status_labels]
"status: planned" = "planned"

[[apps]]
id = "internal"
name = "Acme Internal"
repo = "acme/internal"
labels = ["feature-request", "app:internal"]
public = false
moderation = "none"
"""


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Build Settings from TOML text (default: two apps) and extra environment."""

    def build(config: str = CONFIG, **env: str) -> Settings:
        path = tmp_path / "featurebridge.toml"
        path.write_text(textwrap.dedent(config), encoding="utf-8")
        base = {
            "FEATUREBRIDGE_CONFIG": str(path),
            "FEATUREBRIDGE_STORE": f"sqlite:///{tmp_path / 'index.db'}",
            "FEATUREBRIDGE_ENV_FILE": str(tmp_path / "absent.env"),
            "FEATUREBRIDGE_ADMIN_TOKEN": "operator-secret",
        }
        return Settings.from_env({**base, **env})

    return build


# What no log line may ever hold (SPEC §10): the suite's secrets, any token or key, and
# the people the tests invent. Every test's logs are checked (the autouse fixture below).
_TEST_SECRETS = (
    "operator-secret",
    "webhook-secret",
    "fixture-webhook-secret",
    "old-secret",
    "form-secret",
    "typeform-secret",
    "mobile-voter-secret-for-browser-tests",
    MOBILE_SECRET,
    WEB_SECRET,
)
_TEST_PEOPLE = ("Ada Lovelace", "Jane Doe")
PRIVATE_IN_LOGS = re.compile(
    "|".join(
        [
            r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+",  # an email address
            r"gh[pousr]_[A-Za-z0-9]{20,}",  # a GitHub token
            r"eyJ[\w-]+\.[\w-]+\.[\w-]+",  # a JWT (voter tokens, App JWTs)
            r"PRIVATE KEY",
            # Whole words: "webhook-secret" is a secret, "github-webhook-secret" a name.
            *(rf"(?<![\w-]){re.escape(word)}(?![\w-])" for word in _TEST_SECRETS + _TEST_PEOPLE),
        ]
    )
)


@pytest.fixture(autouse=True)
def _logs_hold_nothing_private() -> Iterator[None]:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    root = logging.getLogger()
    handler, level = Keep(), root.level
    root.addHandler(handler)
    root.setLevel(min(level, logging.INFO) or logging.INFO)
    yield
    root.removeHandler(handler)
    root.setLevel(level)
    formatter = logs.JsonFormatter()
    leaks = [
        f"{record.name}: {found.group(0)!r}"
        for record in records
        for found in [PRIVATE_IN_LOGS.search(formatter.format(record))]
        if found is not None
    ]
    assert leaks == [], "private data in the logs"


@pytest.fixture
def log_lines() -> Iterator[list[dict[str, Any]]]:
    """Everything logged while the test runs, each record as the JSON line it becomes."""
    captured: list[dict[str, Any]] = []
    formatter = logs.JsonFormatter()

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            captured.append(json.loads(formatter.format(record)))

    root = logging.getLogger()
    handler, level = Capture(), root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield captured
    root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def tracker(clock: FakeClock) -> FakeTracker:
    return FakeTracker(clock)


@pytest.fixture
def runtime(
    make_settings: Callable[..., Settings], tmp_path: Path, tracker: FakeTracker, clock: FakeClock
) -> Runtime:
    settings = make_settings()
    return build_runtime(
        settings,
        store=SQLiteStore(tmp_path / "index.db"),
        tracker=tracker,
        queue=RecordingQueue(),
        clock=clock,
    )


@pytest.fixture
def app(runtime: Runtime) -> Iterator[Flask]:
    flask_app = create_app(runtime.settings, runtime)
    yield flask_app
    flask_app.extensions["featurebridge.inline"].shutdown()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def github_tracker(github_double: GitHubDouble) -> Iterator[GitHubIssueTracker]:
    """The real GitHub adapter, as an App installed on acme's repositories of the double."""
    github_double.add_installation("acme", repos=["acme/mobile", "acme/internal"])
    tracker = GitHubIssueTracker(
        app_id=github_double.app_id,
        private_key_pem=github_double.private_key_pem,
        transport=github_double.transport,
    )
    yield tracker
    tracker.close()


def error_code(response: Any) -> str:
    """The envelope's code of an error answer."""
    return str(response.get_json()["error"]["code"])
