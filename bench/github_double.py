"""What the test suite's GitHub double costs: creating one, and one validated request.

    .venv/bin/python bench/github_double.py

The double validates every request and answer against GitHub's OpenAPI
description; the suite makes a fresh one per test and sends it thousands of
requests, so both must stay cheap. Baseline, in the same run: the same httpx
client against ``httpx.MockTransport`` answering a fixed issue (no validation).
Goals: creating a double under 5 ms, a request under 5 ms median.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.github_double import GitHubDouble

TOKEN = "ghp_personal0000000000000000000000000000"
API = "https://api.github.com"
ROUNDS = 200
GOAL_SECONDS = 0.005


def per_request(client: httpx.Client) -> float:
    timings = []
    for n in range(ROUNDS):
        started = time.perf_counter()
        client.post("/repos/acme/mobile/issues", json={"title": f"t{n}", "labels": ["x"]})
        timings.append(time.perf_counter() - started)
    return statistics.median(timings[20:])


def main() -> int:
    GitHubDouble()  # the description is parsed once per process: not part of a creation
    started = time.perf_counter()
    for _ in range(50):
        GitHubDouble()
    create = (time.perf_counter() - started) / 50
    double = GitHubDouble()
    double.add_token(TOKEN, repos=["acme/mobile"])
    headers = {"Authorization": f"token {TOKEN}"}
    with httpx.Client(transport=double.transport, base_url=API, headers=headers) as client:
        validated = per_request(client)
    fixed = httpx.Response(201, json={"number": 1, "title": "t"})
    bare = httpx.MockTransport(lambda request: fixed)
    with httpx.Client(transport=bare, base_url=API, headers=headers) as client:
        baseline = per_request(client)

    def verdict(seconds: float) -> str:
        return "met" if seconds < GOAL_SECONDS else "missed"

    print(f"create a double     {create * 1000:7.2f} ms   goal < 5 ms: {verdict(create)}")
    print(f"one request         {validated * 1000:7.2f} ms   goal < 5 ms: {verdict(validated)}")
    print(f"bare MockTransport  {baseline * 1000:7.2f} ms   ratio {validated / baseline:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
