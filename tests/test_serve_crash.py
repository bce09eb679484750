"""featurebridge serve killed with SIGKILL mid-delivery, restarted: exactly one issue."""

from __future__ import annotations

import signal
from pathlib import Path

from tests.github_double import Fault, GitHubDouble
from tests.processes import free_port, http, start_serve, wait_for

CONFIG = """
[server]
inline_delivery_seconds = 1
delivery_lease_seconds = 3

[[apps]]
id = "mobile"
name = "Acme Mobile"
repo = "acme/mobile"
labels = ["feature-request", "app:mobile"]
public = true
"""


def test_sigkill_after_202_then_restart_delivers_exactly_once(
    tmp_path: Path, github_double: GitHubDouble
) -> None:
    (tmp_path / "featurebridge.toml").write_text(CONFIG)
    github_double.add_token("ghp_crashtest", repos=["acme/mobile"])
    with github_double.serve() as base_url:
        port = free_port()
        first = start_serve(tmp_path, port, GITHUB_API_URL=base_url, GITHUB_TOKEN="ghp_crashtest")
        # A first submission warms the process up (imports, connections).
        http("POST", f"http://127.0.0.1:{port}/v1/apps/mobile/requests", {"title": "Warm-up"})
        assert wait_for(lambda: len(github_double.issues("acme/mobile")) == 1)
        # GitHub turns slow: the create outlives the request's wait, and the process dies
        # with it in flight.
        github_double.faults.add(
            Fault(method="POST", path="/repos/{owner}/{repo}/issues", kind="slow", delay=3.0)
        )
        status, body = http(
            "POST", f"http://127.0.0.1:{port}/v1/apps/mobile/requests", {"title": "Dark mode"}
        )
        assert status == 202
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        # The create the dead process sent still lands on GitHub.
        assert wait_for(lambda: len(github_double.issues("acme/mobile")) == 2)
        github_double.faults.clear()

        second = start_serve(tmp_path, port, GITHUB_API_URL=base_url, GITHUB_TOKEN="ghp_crashtest")
        try:
            assert wait_for(
                lambda: (
                    len(http("GET", f"http://127.0.0.1:{port}/v1/apps/mobile/requests")[1]["items"])
                    == 2
                ),
                timeout=30,
            )
            _, listed = http("GET", f"http://127.0.0.1:{port}/v1/apps/mobile/requests")
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=15)
    issues = github_double.issues("acme/mobile")
    assert len(issues) == 2
    [crashed] = [issue for issue in issues if body["id"] in issue["body"]]
    assert crashed["number"] in {item["number"] for item in listed["items"]}  # type: ignore[index]
