"""Submission cost: the bridge against the GitHub double, beside a bare Flask route.

    .venv/bin/python bench/submit.py [--count N]

Prints time per submission (in-process, warm token, the default moderation),
split into GitHub's side (the double and the in-process wire, which stand in
for GitHub and the network) and the bridge's own; the same for a bare Flask
route doing the same validation, run in turns with the bridge so that both meet
the same load; their ratio against the goal (the bridge's own time <= 5x the
bare route); GitHub requests per submission; and index-store write
transactions per submission against the goal (<= 2).
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from flask import Flask, jsonify, request  # noqa: E402
from msgspec.structs import replace  # noqa: E402

from bridge.api.write_models import SubmissionIn  # noqa: E402
from bridge.app import build_runtime, create_app  # noqa: E402
from bridge.pacing import Budget, Pacer  # noqa: E402
from bridge.settings import Settings  # noqa: E402
from bridge.stores.sqlite import SQLiteStore  # noqa: E402
from github_app.client import GitHubIssueTracker  # noqa: E402
from tests.fakes import RecordingQueue  # noqa: E402
from tests.github_double import GitHubDouble  # noqa: E402

CONFIG = """
[server]
inline_delivery_seconds = 10
[server.rate_limits]
submissions_per_hour = 1000000
[[apps]]
id = "mobile"
name = "Acme Mobile"
repo = "acme/mobile"
labels = ["feature-request", "app:mobile"]
# The default moderation (signals): each submission is screened, its text counted for repeats.
"""
GOAL_WRITES = 2
GOAL_RATIO = 5
SERIAL = itertools.count()
BODY = {
    "title": "Dark mode for the settings screen",
    "description": "It is bright at night. " * 20,
    "email": "ada@example.com",
    "metadata": {"version": "2.1.0", "plan": "pro"},
}


class CountingStore(SQLiteStore):
    """SQLite store that counts write transactions."""

    writes = 0

    @contextmanager
    def _write(self) -> Iterator[object]:  # type: ignore[override]
        CountingStore.writes += 1
        with super()._write() as db:
            yield db


def bare_app() -> Flask:
    app = Flask("bare")

    @app.post("/v1/apps/<app_id>/requests")
    def submit(app_id: str):  # type: ignore[no-untyped-def]
        model = SubmissionIn.model_validate(request.get_json())
        return jsonify({"id": "x", "title": model.title}), 201

    return app


class TimedTransport:
    """The double's in-process transport, timing what GitHub's side takes (the double's
    routing, OpenAPI validation and answer, and the in-process wire that stands in for
    the network) so that the bridge's own time can be told apart."""

    def __init__(self, transport: httpx.BaseTransport) -> None:
        self._transport = transport
        self.seconds = 0.0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        start = time.perf_counter()
        try:
            response = self._transport.handle_request(request)
            response.read()
            return response
        finally:
            self.seconds += time.perf_counter() - start

    def close(self) -> None:
        self._transport.close()


def per_call(client, count: int, github: TimedTransport | None = None) -> list[tuple[float, float]]:  # type: ignore[no-untyped-def]
    """``(total, GitHub's share)`` seconds of each of ``count`` submissions."""
    times = []
    for _ in range(count):
        body = {**BODY, "title": f"{BODY['title']} {next(SERIAL)}"}  # no repeat is held
        before = github.seconds if github else 0.0
        start = time.perf_counter()
        response = client.post("/v1/apps/mobile/requests", json=body)
        total = time.perf_counter() - start
        times.append((total, (github.seconds if github else 0.0) - before))
        assert response.status_code == 201, response.get_json()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=300, help="submissions, in turns of ten")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "featurebridge.toml"
        config.write_text(CONFIG)
        settings = Settings.from_env(
            {"FEATUREBRIDGE_CONFIG": str(config), "FEATUREBRIDGE_ENV_FILE": str(Path(tmp) / "x")}
        )
        double = GitHubDouble()
        double.add_installation("acme", repos=["acme/mobile"])
        github = TimedTransport(double.transport)
        tracker = GitHubIssueTracker(
            app_id=double.app_id,
            private_key_pem=double.private_key_pem,
            transport=github,  # type: ignore[arg-type]
        )
        runtime = build_runtime(
            settings,
            store=CountingStore(Path(tmp) / "bench.db"),
            tracker=tracker,
            queue=RecordingQueue(),
        )
        # GitHub's pacing (80 creations a minute) would queue most of a benchmark burst.
        runtime = replace(runtime, pacer=Pacer(Budget(10**9, 10**9), clock=time.time))
        client = create_app(settings, runtime).test_client()
        bare = bare_app().test_client()
        per_call(client, 20)  # warm: imports, token, connections
        per_call(bare, 20)
        calls_before, writes_before = len(double.calls), CountingStore.writes
        bridge_times: list[tuple[float, float]] = []
        bare_times: list[tuple[float, float]] = []
        # In turns of ten, so that both meet the same load on the machine.
        for _ in range(max(1, args.count // 10)):
            bridge_times += per_call(client, 10, github)
            bare_times += per_call(bare, 10)
        github_requests = (len(double.calls) - calls_before) / len(bridge_times)
        store_writes = (CountingStore.writes - writes_before) / len(bridge_times)
        tracker.close()
    totals = [total for total, _ in bridge_times]
    own = [total - github_share for total, github_share in bridge_times]
    bridge_ms = statistics.median(totals) * 1000
    own_ms = statistics.median(own) * 1000
    github_ms = statistics.median(share for _, share in bridge_times) * 1000
    bare_ms = statistics.median(total for total, _ in bare_times) * 1000
    print(f"submissions: {args.count} (in-process, GitHub double, warm installation token)")
    p95_ms = sorted(totals)[int(0.95 * len(totals))] * 1000
    print(f"bridge   median {bridge_ms:7.2f} ms/submission   p95 {p95_ms:7.2f} ms")
    print(
        f"  of it GitHub's side  {github_ms:7.2f} ms (the double: routing, OpenAPI validation,"
        " answer; the in-process wire)"
    )
    print(f"  the bridge's own     {own_ms:7.2f} ms")
    print(f"bare     median {bare_ms:7.2f} ms/submission   (Flask + the same pydantic validation)")
    ratio = own_ms / bare_ms
    print(
        f"ratio    {ratio:7.1f}x the bare route, the bridge's own time"
        f" ({bridge_ms / bare_ms:.1f}x with GitHub's side); goal <= {GOAL_RATIO}x:"
        f" {'met' if ratio <= GOAL_RATIO else 'MISSED'}"
    )
    print(f"GitHub requests per submission: {github_requests:.2f} (goal: 1)")
    print(f"index write transactions per submission: {store_writes:.2f}")
    print(
        f"  goal: at most {GOAL_WRITES} (the submission with its rate and repeat counters and"
        " first lease; delivered + indexed):"
        f" {'met' if store_writes <= GOAL_WRITES else 'MISSED'}"
    )
    return 0 if ratio <= GOAL_RATIO and store_writes <= GOAL_WRITES else 1


if __name__ == "__main__":
    sys.exit(main())
