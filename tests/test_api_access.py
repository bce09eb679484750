"""Rate limits live in the index: two ``serve`` processes on one SQLite file share them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.processes import free_port, http, start_serve

CONFIG = """
[server.rate_limits]
submissions_per_hour = 2
votes_per_hour = 2

[[apps]]
id = "mobile"
name = "Acme Mobile"
repo = "acme/mobile"
labels = ["feature-request"]
public = true
anonymous_votes = true
"""


@pytest.fixture
def two_processes(tmp_path: Path) -> Iterator[tuple[str, str]]:
    (tmp_path / "featurebridge.toml").write_text(CONFIG, encoding="utf-8")
    env = {
        "FEATUREBRIDGE_CONFIG": str(tmp_path / "featurebridge.toml"),
        "FEATUREBRIDGE_STORE": f"sqlite:///{tmp_path / 'index.db'}",
    }
    ports = [free_port(), free_port()]
    processes = [start_serve(tmp_path, port, **env) for port in ports]
    try:
        yield f"http://127.0.0.1:{ports[0]}", f"http://127.0.0.1:{ports[1]}"
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)


def test_a_client_limited_by_one_process_is_limited_by_the_other(
    two_processes: tuple[str, str],
) -> None:
    first, second = two_processes
    path = "/v1/apps/mobile/requests"
    answers = [
        http("POST", f"{base}{path}", {"title": f"Idea {n}"})[0]
        for n, base in enumerate((first, second, first))
    ]
    assert answers[:2] == [202, 202]  # no GitHub configured: queued
    assert answers[2] == 429
    status, body = http("POST", f"{second}{path}", {"title": "One more"})
    assert status == 429
    assert body["error"]["code"] == "rate_limited"
