"""``featurebridge serve`` with GitHub down, then up: the operator sees the dead delivery,
retries it from the command line, and it is delivered once."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path
from typing import Any

from tests.github_double import Fault, GitHubDouble
from tests.processes import FEATUREBRIDGE, clean_env, free_port, http, start_serve, wait_for

OPERATOR = "outbox-operator-token"
CONFIG = """
[server]
inline_delivery_seconds = 1
delivery_max_attempts = 2

[[apps]]
id = "mobile"
name = "Acme Mobile"
repo = "acme/mobile"
labels = ["feature-request"]
"""


def test_a_dead_delivery_is_retried_from_the_cli_and_delivered_once(
    tmp_path: Path, github_double: GitHubDouble
) -> None:
    github_double.add_token("ghp_outbox", repos=["acme/mobile"])
    github_double.faults.add(
        Fault(method="POST", path="/repos/{owner}/{repo}/issues", kind="server_error", times=None)
    )
    (tmp_path / "featurebridge.toml").write_text(CONFIG)
    auth = {"Authorization": f"Bearer {OPERATOR}"}
    with github_double.serve() as github_url:
        env = {
            "GITHUB_API_URL": github_url,
            "GITHUB_TOKEN": "ghp_outbox",
            "FEATUREBRIDGE_ADMIN_TOKEN": OPERATOR,
        }
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        process = start_serve(tmp_path, port, **env)
        try:
            status, answer = http("POST", f"{base}/v1/apps/mobile/requests", {"title": "Dark mode"})
            assert (status, answer["delivery"]) == (202, "queued")
            submission_id = answer["id"]

            def dead() -> list[Any]:
                _, page = http("GET", f"{base}/v1/outbox?state=dead", None, auth)
                return list(page["items"])

            assert wait_for(dead, timeout=30)
            (item,) = dead()
            assert item["id"] == submission_id
            assert item["attempts"] == 2
            assert item["last_error"]
            _, health = http("GET", f"{base}/healthz", None, auth)
            assert health["queue"]["submissions_by_state"]["dead"] == 1

            def cli(*args: str) -> subprocess.CompletedProcess[str]:
                return subprocess.run(
                    [str(FEATUREBRIDGE), "outbox", *args],
                    cwd=tmp_path,
                    env=clean_env(tmp_path, **env),
                    capture_output=True,
                    text=True,
                    timeout=60,
                    check=False,
                )

            listed = cli("--state", "dead")
            assert listed.returncode == 0, listed.stderr
            assert submission_id in listed.stdout
            github_double.faults.clear()  # GitHub is back
            retried = cli("retry", submission_id)
            assert retried.returncode == 0, retried.stderr

            def listed_requests() -> list[Any]:
                return list(http("GET", f"{base}/v1/apps/mobile/requests", None, auth)[1]["items"])

            assert wait_for(listed_requests, timeout=30)
            assert dead() == []
            assert cli("retry", submission_id).returncode == 0  # delivered: nothing more
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=15)
    created = [c for c in github_double.calls if c.method == "POST" and c.path.endswith("/issues")]
    assert [c.status for c in created].count(201) == 1
