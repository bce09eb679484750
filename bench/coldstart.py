"""Lambda cold starts: the HTTP entry against a bare Mangum + Flask app, fresh interpreters.

    .venv/bin/python bench/coldstart.py [--runs 15] [--only a|b] [--importtime]

Each run spawns a new interpreter (as a cold Lambda environment does), which
imports its handler, builds what it needs and answers one API Gateway HTTP API
event; the time is from spawning to the answer arriving on the child's stdout.
Each variant then runs once more under valgrind's callgrind, which counts the
instructions the child executes up to its answer (with no warm calls after it).
That count is the same run after run, where on a shared two-CPU machine the same
bare variant's wall median moved from 216 to 309 ms between two runs minutes
apart, so the goals are judged on it; without valgrind, on the wall medians.
Variants alternate run by run so that a busy machine slows them alike; medians
are printed with their ratios to the baseline. After its first answer each
child also times warm invocations (used by ``bench/cost.py``).

(a) ``http_entry.handler`` answering ``GET /healthz`` (SQLite index, no queue)
    vs ``Mangum(WSGIMiddleware(Flask(__name__)))`` answering one route with one
    pydantic model (the bridge validates settings and bodies with pydantic, so
    its first use is the floor). Goal <= 1.1x. The bare app without pydantic is
    shown beside them.
(b) ``http_entry.handler`` answering a listing from DynamoDB (moto's server,
    started here) vs a bare app that validates the query with one pydantic model
    and sends the listing's own Query (same index, key condition and limit) with
    a botocore client. Goal <= 1.15x. The entry also counts the read against the
    caller's rate limit (one UpdateItem); moto's time for it is printed.

(logs) What the JSON log lines cost: importing ``bridge.logs`` in a fresh
    interpreter, alone and after Flask, beside ``import logging``.

Results go to ``build/bench/coldstart.json``. With ``--importtime`` (or when a
goal is missed) the entry's heaviest imports are listed (``python -X importtime``).
The exit status is 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import inspect
import itertools
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FIXTURE = ROOT / "tests" / "fixtures" / "apigw" / "healthz.json"
CONFIG = ROOT / "featurebridge.example.toml"
RESULTS = ROOT / "build" / "bench" / "coldstart.json"
TABLE = "featurebridge-coldstart"
GOALS = {"a": 1.1, "b": 1.15}
WARM_CALLS = 30
_CALLERS = itertools.count(1)

# Each child: build the handler, answer the event once (cold), print, then time warm calls.
_CHILD_TAIL = """
event = json.loads(EVENT)
answer = handler(event, None)
print("ANSWER", answer["statusCode"], flush=True)
warm = []
for _ in range(WARM):
    started = time.perf_counter()
    handler(event, None)
    warm.append(time.perf_counter() - started)
warm.sort()
print("WARM", warm[len(warm) // 2] if warm else 0.0, flush=True)
"""

ENTRY = """
import json, time
from http_entry import handler
"""

BARE = """
import json, time
from a2wsgi import WSGIMiddleware
from flask import Flask
from mangum import Mangum

app = Flask(__name__)

@app.get("/healthz")
def healthz():
    return {"status": "ok"}

handler = Mangum(WSGIMiddleware(app), lifespan="off")
"""

BARE_PYDANTIC = """
import json, time
from a2wsgi import WSGIMiddleware
from flask import Flask
from mangum import Mangum
from pydantic import BaseModel

class Health(BaseModel):
    status: str

app = Flask(__name__)

@app.get("/healthz")
def healthz():
    return Health(status="ok").model_dump()

handler = Mangum(WSGIMiddleware(app), lifespan="off")
"""


def listing_query(table: str, app_id: str, limit: int) -> dict[str, object]:
    """The Query the bridge's listing sends for ``?sort=top`` (``DynamoDBStore.list_requests``)."""
    return {
        "TableName": table,
        "IndexName": "top",
        "KeyConditionExpression": "#pk = :partition",
        "ExpressionAttributeNames": {"#pk": "pk"},
        "ExpressionAttributeValues": {":partition": {"S": f"APP#{app_id}"}},
        "ScanIndexForward": False,
        "Limit": limit + 1,
    }


BARE_QUERY = f"""
import json, os, time
import botocore.session
from a2wsgi import WSGIMiddleware
from flask import Flask, request
from mangum import Mangum
from pydantic import BaseModel

{inspect.getsource(listing_query)}

class Params(BaseModel):
    sort: str = "top"
    limit: int = 20

app = Flask(__name__)
client = None

@app.get("/v1/apps/<app_id>/requests")
def listing(app_id):
    global client
    limit = Params.model_validate(request.args.to_dict()).limit
    if client is None:
        client = botocore.session.get_session().create_client("dynamodb")
    query = listing_query(os.environ["BENCH_TABLE"], app_id, limit)
    items = client.query(**query)["Items"]
    return {{"items": items[:limit]}}

handler = Mangum(WSGIMiddleware(app), lifespan="off")
"""


@dataclass
class Variant:
    """One kind of cold start: a child script, its environment and its event."""

    name: str
    script: str
    env: dict[str, str]
    event: dict[str, Any]
    walls: list[float] = field(default_factory=list)
    warms: list[float] = field(default_factory=list)
    instructions: int | None = None

    def child(self, warm: int = WARM_CALLS) -> str:
        # Each child is another caller: the bridge rate-limits reads per client per minute,
        # and a run's children read more than one client may.
        event = json.loads(json.dumps(self.event))
        caller = next(_CALLERS)
        address = f"10.{caller >> 16 & 255}.{caller >> 8 & 255}.{caller & 255}"
        event["requestContext"]["http"]["sourceIp"] = address
        event["headers"]["x-forwarded-for"] = address
        return (
            f"EVENT = {json.dumps(json.dumps(event))}\nWARM = {warm}\n" + self.script + _CHILD_TAIL
        )


def base_env(extra: Mapping[str, str]) -> dict[str, str]:
    """A clean environment: no GitHub, no featurebridge.env, the entries importable."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "lambda"), str(ROOT)]),
        "FEATUREBRIDGE_CONFIG": str(CONFIG),
        "FEATUREBRIDGE_ENV_FILE": os.devnull,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    env.update(extra)
    return env


def cold_start(variant: Variant, *, flags: tuple[str, ...] = ()) -> tuple[float, float, str]:
    """Spawn one child; return (seconds to its answer, median warm seconds, stderr)."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, *flags, "-c", variant.child()],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=variant.env,
        cwd=tempfile.gettempdir(),
        text=True,
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    answered = time.perf_counter() - started
    rest, errors = child.communicate(timeout=120)
    if not line.startswith("ANSWER 200") or "WARM" not in rest:
        raise RuntimeError(
            f"{variant.name} (exit {child.returncode}): {line!r}{rest!r}\n{errors[-2000:]}"
        )
    warm = float(rest.split("WARM", 1)[1].split()[0])
    return answered, warm, errors


def run(variants: list[Variant], runs: int) -> None:
    """Warm the page cache and bytecode once, then alternate the variants ``runs`` times;
    then count each one's instructions once."""
    for variant in variants:
        cold_start(variant)
    for _ in range(runs):
        for variant in variants:
            wall, warm, _ = cold_start(variant)
            variant.walls.append(wall)
            variant.warms.append(warm)
    for variant in variants:
        variant.instructions = count_instructions(variant)


def count_instructions(variant: Variant) -> int | None:
    """The instructions one cold start executes up to its answer (callgrind), or None
    without valgrind."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return None
    with tempfile.TemporaryDirectory() as scratch:
        result = subprocess.run(
            [
                valgrind,
                "--tool=callgrind",
                f"--callgrind-out-file={scratch}/callgrind.out",
                *(sys.executable, "-c", variant.child(warm=0)),
            ],
            capture_output=True,
            env=variant.env,
            cwd=tempfile.gettempdir(),
            text=True,
            timeout=600,
            check=False,
        )
    collected = re.search(r"Collected : (\d+)", result.stderr)
    if result.returncode != 0 or not result.stdout.startswith("ANSWER 200") or not collected:
        raise RuntimeError(f"{variant.name} under callgrind: {result.stderr[-2000:]}")
    return int(collected.group(1))


def report(title: str, variants: list[Variant], goal: float) -> dict[str, Any]:
    """Print medians and ratios to the first variant (the baseline) and the last's (the
    entry's) verdict against ``goal``; return the figures.

    The verdict is on instructions when valgrind counted them, otherwise on wall medians.
    """
    baseline = statistics.median(variants[0].walls)
    counted = variants[0].instructions
    print(f"\n{title}")
    print(
        f"  {'variant':<40} {'cold median':>11} {'min':>6} {'max':>6} {'ratio':>6}"
        + (f" {'instructions':>13} {'ratio':>6}" if counted else "")
        + f" {'warm':>8}"
    )
    figures: dict[str, Any] = {}
    for variant in variants:
        median = statistics.median(variant.walls)
        warm = statistics.median(variant.warms)
        count = variant.instructions
        count_ratio = count / counted if count and counted else None
        print(
            f"  {variant.name:<40} {median * 1000:>9.0f}ms {min(variant.walls) * 1000:>4.0f}ms"
            f" {max(variant.walls) * 1000:>4.0f}ms {median / baseline:>5.2f}x"
            + (f" {count / 1e6:>12.0f}M {count_ratio:>5.2f}x" if count and count_ratio else "")
            + f" {warm * 1000:>6.2f}ms"
        )
        figures[variant.name] = {
            "cold_median_s": median,
            "ratio": median / baseline,
            "instructions": count,
            "instructions_ratio": count_ratio,
            "warm_median_s": warm,
            "runs": len(variant.walls),
        }
    entry = figures[variants[-1].name]
    by = "instructions" if entry["instructions_ratio"] else "wall medians"
    ratio = entry["instructions_ratio"] or entry["ratio"]
    verdict = "met" if ratio <= goal else "MISSED"
    print(f"  goal: entry <= {goal}x {variants[0].name}, in {by}: {verdict} ({ratio:.2f}x)")
    figures["baseline"] = variants[0].name
    figures["goal"] = goal
    figures["judged_on"] = by
    figures["met"] = ratio <= goal
    return figures


def heaviest_imports(variant: Variant, *, top: int = 25) -> None:
    """List the imports that cost the entry most (self time), and bridge's own modules."""
    _, _, errors = cold_start(variant, flags=("-X", "importtime"))
    rows: list[tuple[int, int, str]] = []
    for line in errors.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative_us, module = line.removeprefix("import time:").split("|")
        rows.append((int(self_us), int(cumulative_us), module.rstrip()))
    by_package: dict[str, int] = {}
    for own, _, name in rows:
        package = name.strip().split(".")[0]
        by_package[package] = by_package.get(package, 0) + own
    print(f"\n  import self time by top-level package ({variant.name}; -X importtime inflates):")
    for package, micros in sorted(by_package.items(), key=lambda kv: -kv[1])[:12]:
        print(f"    {package:<28} {micros / 1000:7.1f} ms")
    print("  heaviest bridge/github_app imports (cumulative, as first imported):")
    ours = [r for r in rows if r[2].strip().split(".")[0] in {"bridge", "github_app"}]
    for own, cumulative, name in sorted(ours, key=lambda r: -r[1])[:top]:
        print(f"    {name.strip():<34} self {own / 1000:6.1f} ms", end="")
        print(f"  cumulative {cumulative / 1000:7.1f} ms")


def listing_event() -> dict[str, Any]:
    """The healthz fixture turned into ``GET /v1/apps/demo/requests?sort=top&limit=20``."""
    event: dict[str, Any] = json.loads(FIXTURE.read_text("utf-8"))
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/v1/apps/demo/requests"
    event["rawQueryString"] = "sort=top&limit=20"
    event["queryStringParameters"] = {"sort": "top", "limit": "20"}
    return event


@contextmanager
def dynamodb_with_requests(count: int = 25) -> Iterator[str]:
    """moto's server with the index table and ``count`` requests of the demo app."""
    from bridge.stores.dynamodb import DynamoDBStore
    from bridge.stores.dynamodb_table import create_table
    from tests.moto_server import aws_test_env, make_client, running_moto
    from tests.store_contract import request

    with aws_test_env(), running_moto() as endpoint:
        create_table(make_client(endpoint), TABLE)
        store = DynamoDBStore(TABLE, endpoint_url=endpoint)
        for number in range(1, count + 1):
            store.upsert_request(
                request(number, app="demo", votes=number % 7, title=f"Idea {number}")
            )
        yield endpoint


def bench_a(runs: int, store_dir: Path, *, importtime: bool) -> dict[str, Any]:
    event = json.loads(FIXTURE.read_text("utf-8"))
    sqlite = {"FEATUREBRIDGE_STORE": f"sqlite:///{store_dir / 'index.db'}"}
    variants = [
        Variant("bare + one pydantic model", BARE_PYDANTIC, base_env({}), event),
        Variant("bare Mangum(WSGIMiddleware(Flask))", BARE, base_env({}), event),
        Variant("http_entry GET /healthz (SQLite)", ENTRY, base_env(sqlite), event),
    ]
    run(variants, runs)
    figures = report("(a) cold start to the first answer: /healthz", variants, GOALS["a"])
    if importtime or not figures["met"]:
        heaviest_imports(variants[-1])
    return figures


def moto_wait(endpoint: str) -> tuple[float, float]:
    """Median seconds moto takes for the listing's Query and for its rate-limit UpdateItem."""
    from bridge.stores.dynamodb import DynamoDBStore
    from tests.moto_server import make_client

    client = make_client(endpoint)
    store = DynamoDBStore(TABLE, endpoint_url=endpoint)
    queries, updates = [], []
    for _ in range(7):
        started = time.perf_counter()
        client.query(**listing_query(TABLE, "demo", 20))
        queries.append(time.perf_counter() - started)
        started = time.perf_counter()
        store.hit_rate_limit("read:demo::bench", window_seconds=60, now=datetime.now(UTC))
        updates.append(time.perf_counter() - started)
    return statistics.median(queries), statistics.median(updates)


def bench_b(runs: int, *, importtime: bool) -> dict[str, Any] | None:
    if not (ROOT / "bridge" / "stores" / "dynamodb.py").exists():
        print("\n(b) needs the DynamoDB store (bridge/stores/dynamodb.py): not run")
        return None
    event = listing_event()
    with dynamodb_with_requests() as endpoint:
        aws = {"AWS_ENDPOINT_URL_DYNAMODB": endpoint, "BENCH_TABLE": TABLE}
        variants = [
            Variant("bare: pydantic + botocore Query", BARE_QUERY, base_env(aws), event),
            Variant(
                "http_entry listing from DynamoDB",
                ENTRY,
                base_env({**aws, "FEATUREBRIDGE_STORE": f"dynamodb://{TABLE}"}),
                event,
            ),
        ]
        run(variants, runs)
        query, update = moto_wait(endpoint)
        figures = report("(b) cold start to the first answer: a listing", variants, GOALS["b"])
        print(
            f"  moto: the Query (both sides) takes {query * 1000:.0f} ms; the entry's"
            f" rate-limit UpdateItem {update * 1000:.0f} ms"
        )
        figures["moto_query_s"], figures["moto_rate_limit_update_s"] = query, update
        if importtime or not figures["met"]:
            heaviest_imports(variants[-1])
    return figures


def logging_import_cost(runs: int) -> dict[str, float]:
    """What the JSON log formatter costs a cold start, in fresh interpreters (medians, ms).

    ``bridge.logs`` alone, and after Flask (which already loads ``logging`` and
    ``json``: what the HTTP entry actually pays), beside the bare ``logging`` import.
    """
    programs = {
        "import logging": ("", "import logging"),
        "import bridge.logs": ("", "import bridge.logs"),
        "import bridge.logs after Flask": ("import flask", "import bridge.logs"),
    }
    samples: dict[str, list[float]] = {name: [] for name in programs}
    for _ in range(runs):
        for name, (before, timed) in programs.items():
            program = f"{before}\nimport time\nt = time.perf_counter()\n{timed}\n"
            program += "print((time.perf_counter() - t) * 1000)"
            answer = subprocess.run(
                [sys.executable, "-c", program],
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT,
            )
            samples[name].append(float(answer.stdout))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    print(f"\n(logs) import cost in fresh interpreters, median of {runs}")
    for name, median in medians.items():
        print(f"  {name:32} {median:6.2f} ms")
    ratio = medians["import bridge.logs"] / medians["import logging"]
    print(f"  bridge.logs / logging alone: {ratio:.2f}x")
    return medians


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Lambda cold-start benchmark")
    # A busy machine spreads single cold starts by a fifth or more: medians of 15.
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--only", choices=["a", "b"])
    parser.add_argument("--importtime", action="store_true", help="always list heavy imports")
    args = parser.parse_args(argv)
    print(
        f"Cold starts: {args.runs} fresh interpreters per variant, alternating, after one"
        f" warm-up each; Python {sys.version.split()[0]} on {os.cpu_count()} CPU(s)."
        " Lambda adds its own runtime start to both sides of each ratio."
    )
    results: dict[str, Any] = {"measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    with tempfile.TemporaryDirectory() as scratch:
        if args.only in (None, "a"):
            results["a"] = bench_a(args.runs, Path(scratch), importtime=args.importtime)
        if args.only in (None, "b"):
            outcome = bench_b(args.runs, importtime=args.importtime)
            if outcome is not None:
                results["b"] = outcome
    results["logs"] = logging_import_cost(args.runs)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nresults: {RESULTS.relative_to(ROOT)}")
    missed = [part for part in ("a", "b") if part in results and not results[part]["met"]]
    if missed:
        print(f"goal missed: ({'), ('.join(missed)})")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
