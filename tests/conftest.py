"""Shared fixtures: settings from TOML text, a SQLite index, a wired Flask app."""

from __future__ import annotations

import json
import logging
import os
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
