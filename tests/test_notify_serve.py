"""``featurebridge serve`` as a real process: its worker sends a new request's signed webhook."""

from __future__ import annotations

import hashlib
import hmac
import json
import signal
from pathlib import Path

from tests.github_double import GitHubDouble
from tests.processes import free_port, http, start_serve, wait_for
from tests.webhook_receiver import running_receiver

SECRET = "serve-hook-signing-secret"
OPERATOR = "serve-operator-token"

CONFIG = """
[server]
allow_private_webhook_targets = true

[[apps]]
id = "mobile"
name = "Acme Mobile"
repo = "acme/mobile"
labels = ["feature-request"]

[[apps.notify.webhooks]]
url = "{url}"
format = "json"
secret_env = "MOBILE_WEBHOOK_SECRET"
events = ["request.created"]
"""


def test_serve_delivers_request_created_to_a_loopback_receiver(
    tmp_path: Path, github_double: GitHubDouble
) -> None:
    github_double.add_token("ghp_serve_notify", repos=["acme/mobile"])
    with running_receiver() as receiver, github_double.serve() as github_url:
        (tmp_path / "featurebridge.toml").write_text(CONFIG.format(url=receiver.url))
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        process = start_serve(
            tmp_path,
            port,
            GITHUB_API_URL=github_url,
            GITHUB_TOKEN="ghp_serve_notify",
            FEATUREBRIDGE_ADMIN_TOKEN=OPERATOR,
            MOBILE_WEBHOOK_SECRET=SECRET,
        )
        try:
            status, _ = http("POST", f"{base}/v1/apps/mobile/requests", {"title": "Dark mode"})
            assert status in (201, 202)
            assert wait_for(lambda: receiver.accepted)
            operator = {"Authorization": f"Bearer {OPERATOR}"}

            def delivered() -> list[dict[str, str]]:
                _, listing = http("GET", f"{base}/v1/notifications?state=delivered", None, operator)
                return list(listing["deliveries"])

            assert wait_for(delivered)
            (shown,) = delivered()
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=15)
    (post,) = receiver.accepted
    stamp = post.headers["X-Featurebridge-Timestamp"]
    expected = hmac.new(SECRET.encode(), f"{stamp}.".encode() + post.body, hashlib.sha256)
    assert post.headers["X-Featurebridge-Signature"] == "sha256=" + expected.hexdigest()
    event = json.loads(post.body)
    assert event["type"] == "request.created"
    assert event["request"]["title"] == "Dark mode"
    assert shown["event_id"] == event["id"]
    assert shown["attempts"] == 1
