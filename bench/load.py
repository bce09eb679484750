"""What one machine sustains: a real ``featurebridge serve`` over loopback, GitHub behind it.

    .venv/bin/python bench/load.py [--seconds 4] [--levels 1,4,16,32]

Starts the GitHub double (every request checked against GitHub's OpenAPI
description, as in the tests) in a child process on 127.0.0.1, seeds it with
1,000 issues, indexes them with ``featurebridge sync``, then starts
``featurebridge serve`` (SQLite, its own config: per-client rate limits raised
so one loopback client can load it; GitHub's pacing left as shipped) and
drives it from this process at each concurrency level in turn: listings
(``GET .../requests?sort=top|new|trending``), submissions (each creates an
issue inline while GitHub's pacing allows: 80 a minute, 500 an hour per
installation; later ones answer ``202`` queued at once), then anonymous votes
on random requests (each queues a tally edit, from the same budget). Each
phase stops after ``--seconds`` or ``MAX_REQUESTS`` requests, whichever comes
first; the whole run takes about a minute and stops by itself.

Prints requests per second, p50/p99 latency and errors per kind and level,
and the level at which latency or errors climb; writes the figures to
``build/bench/load.json``. Everything runs on this machine (2 cores shared by
the load generator, the double and the service), so the figures are a floor
for a machine that serves only the bridge.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULT = ROOT / "build" / "bench" / "load.json"
FEATUREBRIDGE = Path(sys.executable).parent / "featurebridge"
SEED_ISSUES = 1_000
MAX_REQUESTS = 20_000  # per phase, whatever the time left
TOKEN = "ghp_load_bench"
REPO = "acme/load"
CONFIG = """
[server]
public_url = "http://127.0.0.1:{port}"
# The load test queues thousands for one app, past the default cap of 1,000 (429 beyond):
# it measures what one machine accepts, not the cap.
max_queued_per_app = 1000000
[server.rate_limits]
submissions_per_hour = 1000000
votes_per_hour = 1000000
anonymous_votes_per_request_per_day = 1000000
reads_per_minute = 1000000

[[apps]]
id = "load"
name = "Load"
repo = "acme/load"
labels = ["feature-request", "app:load"]
public = true
anonymous_votes = true
# Load tests repeat their texts: screening would hold them; this measures what reaches GitHub.
moderation = "none"
"""


# --------------------------------------------------------------------------- the double


def serve_double(issues: int) -> int:
    """Child process: the GitHub double on loopback until stdin closes."""
    sys.path.insert(0, str(ROOT))
    from tests.github_double import GitHubDouble

    double = GitHubDouble()
    double.add_token(TOKEN, repos=[REPO])
    for n in range(issues):
        double.add_issue(REPO, f"Seeded request {n}", labels=["feature-request", "app:load"])
    with double.serve() as url:
        print(url, flush=True)
        sys.stdin.read()
    if double.violations:
        print(f"{len(double.violations)} request(s) GitHub would refuse", file=sys.stderr)
        return 1
    return 0


# --------------------------------------------------------------------------- load


@dataclass
class Phase:
    """One kind of request at one concurrency level, and what came back."""

    kind: str
    concurrency: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    filed: list[float] = field(default_factory=list)  # latencies of 201 answers

    @property
    def ok(self) -> int:
        return sum(n for code, n in self.statuses.items() if 200 <= code < 300)

    @property
    def errors(self) -> int:
        return sum(self.statuses.values()) - self.ok

    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000

    def figures(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "concurrency": self.concurrency,
            "requests": len(self.latencies),
            "per_second": round(self.rate(), 1),
            "p50_ms": round(self.percentile(0.50), 2),
            "p99_ms": round(self.percentile(0.99), 2),
            "statuses": dict(sorted(self.statuses.items())),
        }


def request_of(kind: str, numbers: list[int], rng: random.Random) -> tuple[str, str, bytes | None]:
    """Method, path and body of one request of ``kind``."""
    if kind == "listings":
        sort = rng.choice(("top", "top", "new", "trending"))
        return "GET", f"/v1/apps/load/requests?sort={sort}&limit=20", None
    if kind == "votes":
        body = {"anonymous_id": uuid.uuid4().hex}
        path = f"/v1/apps/load/requests/{rng.choice(numbers)}/votes"
        return "POST", path, json.dumps(body).encode()
    body = {"title": f"Load test idea {uuid.uuid4().hex[:12]}", "description": "Why: " * 40}
    return "POST", "/v1/apps/load/requests", json.dumps(body).encode()


def drive(port: int, phase: Phase, numbers: list[int], seconds: float) -> Phase:
    """Run ``phase.concurrency`` clients with keep-alive connections until time or count."""
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    sent = [0]

    def client(seed: int) -> None:
        rng = random.Random(seed)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.perf_counter() < deadline:
            with lock:
                if sent[0] >= MAX_REQUESTS:
                    break
                sent[0] += 1
            method, path, body = request_of(phase.kind, numbers, rng)
            headers = {"Content-Type": "application/json"}
            if phase.kind == "submissions":
                headers["Idempotency-Key"] = uuid.uuid4().hex
            started = time.perf_counter()
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                status = 599  # connection refused, reset or timed out
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            elapsed = time.perf_counter() - started
            with lock:
                phase.latencies.append(elapsed)
                phase.statuses[status] += 1
                if status == 201:
                    phase.filed.append(elapsed)
        connection.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(phase.concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    phase.seconds = time.perf_counter() - started
    return phase


def climb(phases: list[Phase]) -> str:
    """For one kind: the best throughput, the level from which it stops growing (by
    10% or more per step), where p99 passes three times a single client's, and errors."""
    best = max(phases, key=Phase.rate)
    steps = itertools.pairwise(phases)
    flat = next((b.concurrency for a, b in steps if b.rate() < 1.1 * a.rate()), None)
    base = phases[0].percentile(0.99)
    slow = next((p.concurrency for p in phases if p.percentile(0.99) > 3 * base), None)
    failing = next((p for p in phases if p.errors), None)
    parts = [f"peak {best.rate():.0f}/s at {best.concurrency} clients"]
    parts.append(f"no faster from {flat} clients" if flat else "still growing at the last level")
    if slow:
        parts.append(f"p99 over 3x a single client's from {slow} clients")
    if failing is not None:
        codes = ", ".join(f"{n} x {code}" for code, n in failing.statuses.items() if code >= 300)
        parts.append(f"errors from {failing.concurrency} clients ({codes})")
    else:
        parts.append("no errors")
    return "; ".join(parts)


# --------------------------------------------------------------------------- the run


def start(command: list[str], env: dict[str, str], **kwargs: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(command, env=env, text=True, **kwargs)


def wait_until_up(port: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("featurebridge serve exited")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            connection.close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("featurebridge serve did not answer within 30 s")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(seconds: float, levels: list[int]) -> dict[str, list[Phase]]:
    """Start the double and the service, drive every phase, stop both."""
    results: dict[str, list[Phase]] = {}
    with tempfile.TemporaryDirectory(prefix="featurebridge-load-") as tmp:
        work = Path(tmp)
        port = free_port()
        (work / "featurebridge.toml").write_text(CONFIG.format(port=port), "utf-8")
        base_env = {
            k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "FEATUREBRIDGE_"))
        }
        double = start(
            [sys.executable, __file__, "--double", str(SEED_ISSUES)],
            base_env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        serve: subprocess.Popen[str] | None = None
        try:
            assert double.stdout is not None
            github_url = double.stdout.readline().strip()
            env = {
                **base_env,
                "FEATUREBRIDGE_CONFIG": str(work / "featurebridge.toml"),
                "FEATUREBRIDGE_STORE": f"sqlite:///{work / 'index.db'}",
                "FEATUREBRIDGE_ENV_FILE": str(work / "none.env"),
                "GITHUB_API_URL": github_url,
                "GITHUB_TOKEN": TOKEN,
            }
            indexed = subprocess.run(
                [str(FEATUREBRIDGE), "sync"],
                env=env,
                cwd=work,
                capture_output=True,
                text=True,
                check=False,
            )
            if indexed.returncode != 0:
                raise RuntimeError(f"featurebridge sync failed: {indexed.stderr.strip()}")
            serve = start(
                [str(FEATUREBRIDGE), "serve", "--port", str(port)],
                env,
                cwd=work,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            wait_until_up(port, serve)
            numbers = list(range(1, SEED_ISSUES + 1))
            # Submissions before votes: every vote queues a tally edit, which spends the
            # same GitHub write budget the issues need.
            for kind in ("listings", "submissions", "votes"):
                results[kind] = []
                for level in levels:
                    phase = drive(port, Phase(kind, level), numbers, seconds)
                    results[kind].append(phase)
                    print(f"  {kind} x{level}: {phase.rate():.0f}/s", flush=True)
        finally:
            if serve is not None:
                serve.terminate()
                serve.wait(timeout=20)
            if double.stdin is not None:
                double.stdin.close()
            double.wait(timeout=20)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each phase")
    parser.add_argument("--levels", default="1,4,16,32", help="concurrent clients per phase")
    parser.add_argument("--double", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.double is not None:
        return serve_double(args.double)
    levels = [int(level) for level in args.levels.split(",")]
    print(
        f"featurebridge serve (SQLite, 8 threads) over loopback, GitHub double behind it,"
        f" {SEED_ISSUES:,} requests indexed; {os.cpu_count()} cores shared by all three;"
        f" each phase {args.seconds:g} s or {MAX_REQUESTS:,} requests; load average before:"
        f" {os.getloadavg()[0]:.1f} (anything else running on the machine slows every figure)"
    )
    results = run(args.seconds, levels)
    columns = f"{'clients':>8}{'requests':>10}{'per s':>9}{'p50 ms':>9}{'p99 ms':>9}"
    print(f"\n{'kind':<12}{columns}  answers")
    for kind, phases in results.items():
        for phase in phases:
            answers = ", ".join(f"{n} x {code}" for code, n in sorted(phase.statuses.items()))
            print(
                f"{kind:<12}{phase.concurrency:>8}{len(phase.latencies):>10}{phase.rate():>9.0f}"
                f"{phase.percentile(0.5):>9.1f}{phase.percentile(0.99):>9.1f}  {answers}"
            )
    print()
    for kind, phases in results.items():
        print(f"  {kind}: {climb(phases)}")
    submissions = results["submissions"]
    filed = sorted(t for p in submissions for t in p.filed)
    queued = sum(p.statuses.get(202, 0) for p in submissions)
    p50 = filed[len(filed) // 2] * 1000 if filed else 0.0
    print(
        f"  submissions: {len(filed)} filed on GitHub within the request (201, p50 {p50:.0f} ms),"
        f" {queued} answered 202 queued at once: GitHub's pacing (80 issues a minute, 500 an"
        " hour per installation) was spent, and the worker files them as it allows."
    )
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    figures = {kind: [p.figures() for p in phases] for kind, phases in results.items()}
    measured_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    RESULT.write_text(json.dumps({"measured_at": measured_at, **figures}, indent=2), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
