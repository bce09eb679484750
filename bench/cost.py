"""What Feature Bridge costs a month on AWS at 1K, 100K and 1M API requests.

    .venv/bin/python bench/cost.py

Infrastructure only, us-east-1, list prices of the date below: API Gateway
HTTP API, Lambda (arm64 GB-seconds including the billed INIT phase, and
requests), DynamoDB on demand (read/write request units, storage, point-in-time
recovery), SQS, CloudWatch (the dead-letter alarm, log ingestion) and KMS
decrypts of the SSM SecureStrings (standard parameters are free). Not in the
totals: Amazon Bedrock tokens (priced per analysis at the end), SES, data
transfer out, a custom domain.

Every figure is either measured here or an assumption stated beside it:

* cold-start and warm compute times come from ``build/bench/coldstart.json``
  when ``bench/coldstart.py`` has run (otherwise the defaults below), scaled
  from this machine's full core to Lambda's CPU share at the function's memory
  (1,769 MB = one vCPU);
* DynamoDB request units per operation come from ``bench/store.py``'s "AWS
  est." column (DynamoDB's billing rules applied to the bridge's items); votes
  are not built yet and are estimated the same way;
* network waits (DynamoDB, SQS, GitHub) are assumptions.

Two totals are printed: list price, and after AWS's always-free tier (Lambda
1M requests + 400K GB-s, SQS 1M requests, DynamoDB 25 GB, CloudWatch 10
alarms + 5 GB logs; API Gateway's free tier lasts 12 months only, so it is not
counted). The goal is a quarter of the published serverless reference.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
COLDSTART = ROOT / "build" / "bench" / "coldstart.json"

# --------------------------------------------------------------------------- prices
PRICES_AS_OF = "2025-06 (AWS public price pages, us-east-1; re-check before quoting)"
PRICES = {
    "apigw_http_per_million": 1.00,  # HTTP API, first 300M requests/month
    "lambda_request_per_million": 0.20,
    "lambda_arm_gb_second": 0.0000133334,  # arm64, first 7.5B GB-s/month
    "dynamodb_wru_per_million": 0.625,  # on-demand, after the Nov 2024 price cut
    "dynamodb_rru_per_million": 0.125,
    "dynamodb_storage_gb_month": 0.25,
    "dynamodb_pitr_gb_month": 0.20,
    "sqs_standard_per_million": 0.40,  # per 64 KB chunk of a request
    "cloudwatch_alarm_month": 0.10,  # standard resolution
    "cloudwatch_logs_ingest_gb": 0.50,
    "kms_per_10k_requests": 0.03,  # aws/ssm managed key: no monthly key fee
}
FREE_TIER = {
    "lambda_requests": 1_000_000,
    "lambda_gb_seconds": 400_000,
    "sqs_requests": 1_000_000,
    "dynamodb_storage_gb": 25,
    "cloudwatch_alarms": 10,
    "cloudwatch_logs_gb": 5,
}
REFERENCE = {1_000: 0.83, 100_000: 4.35, 1_000_000: 43.50}  # published serverless reference
GOAL_FRACTION = 0.25
TIERS = (1_000, 100_000, 1_000_000)

# --------------------------------------------------------------------------- the workload
# Share of API requests by kind: the widget mostly reads.
MIX = {"listing": 0.70, "vote": 0.18, "submission": 0.04, "webhook": 0.08}
HTTP_MB, WORKER_MB, SCHEDULE_MB = 1024, 512, 512  # as lambda/template.yaml sets them
VCPU_MB = 1769  # Lambda gives one vCPU at 1,769 MB, a share of one below


@dataclass(frozen=True)
class Operation:
    """One API request of a kind: DynamoDB units, waits, and the jobs it causes."""

    rru: float
    wru: float
    wait_ms: float  # network waits within the HTTP function (DynamoDB, SQS, GitHub)
    jobs: float = 0.0  # SQS jobs enqueued (each: send + receive + delete)
    job_ms: float = 0.0  # worker time per job, mostly waiting on GitHub
    job_wru: float = 0.0
    github_writes: float = 0.0  # content-creating GitHub requests it causes


# Units from bench/store.py's AWS estimates: list top 20 = 1.5 RRU, with q= 8.5 (10% of
# listings); rate-limit hit 1 WRU; submit 5 WRU; claim 2; mark delivered 11; get 1 RRU.
OPERATIONS = {
    "listing": Operation(rru=0.9 * 1.5 + 0.1 * 8.5, wru=0, wait_ms=8),
    # Votes (not built yet): rate limit 1 + vote item and request counts in one
    # transaction (2 items x 2) + the request's changed index keys (~6); then a tally
    # job for the issue's comment, coalesced to at most one write a minute (~half).
    "vote": Operation(
        rru=2, wru=11, wait_ms=20, jobs=0.5, job_ms=400, job_wru=1, github_writes=0.5
    ),
    # Submissions: rate limit 1 + create 5 + claim 2 + mark delivered 11; reads of the
    # submission and request (4); GitHub's create answers within the inline wait (~800 ms
    # waiting); then an analysis job (one comment) and a delivery job in 10% of cases.
    "submission": Operation(
        rru=4, wru=19, wait_ms=900, jobs=1.1, job_ms=1500, job_wru=3, github_writes=2
    ),
    # Webhooks: the delivery id and the request's changes in one transaction (~10 WRU).
    "webhook": Operation(rru=1, wru=10, wait_ms=15),
}
ITEM_KB = 0.6  # a request item in the index, with its index copies counted apiece
INDEX_COPIES = 3  # the request item, a listing GSI and a status GSI, on average
LOG_BYTES_PER_INVOCATION = 300  # JSON application lines; platform lines at WARN only
IDLE_RECLAIM_MINUTES = 10  # Lambda reclaims an idle environment after roughly this long
RECYCLES_PER_DAY = 12  # environments are also replaced now and then, busy or not
# Assumed: the event source mapping keeps five 20-second long polls open on an idle
# queue (~648K ReceiveMessage requests a month); check the bill of a real deployment.
SQS_IDLE_POLLERS = 5
# SSM SecureStrings read once per process, each a KMS decrypt (an upper bound: decrypts
# with the AWS managed aws/ssm key may fall in KMS's free 20K requests a month).
SECRETS_PER_COLD_START = 3


@dataclass(frozen=True)
class Tier:
    """What a month at one traffic level looks like (index size and sync drift assumed)."""

    requests: int
    indexed_issues: int
    sync_changes_per_run: float


TIER_SHAPES = {
    1_000: Tier(1_000, indexed_issues=200, sync_changes_per_run=0.2),
    100_000: Tier(100_000, indexed_issues=5_000, sync_changes_per_run=2),
    1_000_000: Tier(1_000_000, indexed_issues=50_000, sync_changes_per_run=20),
}
SCHEDULE_RUNS = 30 * 24 * 4  # every 15 minutes (SyncIntervalMinutes): sweep, then sync
GITHUB_PAGE_MS = 300  # one REST page of 100 issues


# --------------------------------------------------------------------------- measured inputs


def measured() -> tuple[dict[str, float], str]:
    """Cold start and warm compute (seconds on this machine's full core), and their source."""
    defaults = {"cold_http": 0.30, "cold_bare": 0.17, "warm_http": 0.0010}
    if not COLDSTART.exists():
        return defaults, "defaults (run bench/coldstart.py to measure)"
    data: dict[str, Any] = json.loads(COLDSTART.read_text("utf-8"))
    try:
        entry = data["a"]["http_entry GET /healthz (SQLite)"]
        bare = data["a"]["bare Mangum(WSGIMiddleware(Flask))"]
    except KeyError:
        return defaults, "defaults (coldstart.json has no (a) figures)"
    figures = {
        "cold_http": entry["cold_median_s"],
        "cold_bare": bare["cold_median_s"],
        "warm_http": entry["warm_median_s"],
    }
    return figures, f"bench/coldstart.py, measured {data.get('measured_at', '?')}"


def on_lambda(seconds_here: float, memory_mb: int) -> float:
    """CPU-bound time here, stretched to Lambda's CPU share at ``memory_mb``."""
    return seconds_here / min(1.0, memory_mb / VCPU_MB)


def cold_starts(invocations: float, memory_mb: int) -> float:
    """Cold starts a month: gaps longer than the reclaim time (Poisson), plus recycling."""
    per_minute = invocations / (30 * 24 * 60)
    idle = invocations * math.exp(-per_minute * IDLE_RECLAIM_MINUTES)
    return min(invocations, idle + RECYCLES_PER_DAY * 30) if invocations else 0.0


# --------------------------------------------------------------------------- the model


def month(tier: Tier, m: dict[str, float], *, sync_every_minutes: int = 15) -> dict[str, float]:
    """Usage and list-price cost lines for one month (the sync on every schedule run or rarer)."""
    p = PRICES
    n = tier.requests
    runtime_start = 0.15  # Lambda's own runtime start before our imports, assumed
    init_http = on_lambda(m["cold_http"], HTTP_MB) + runtime_start
    init_worker = on_lambda(m["cold_http"], WORKER_MB) + runtime_start
    compute_ms = on_lambda(m["warm_http"], HTTP_MB) * 1000 + 1.5  # + Mangum's hop

    http_gb_s = rru = wru = jobs = job_gb_s = github_writes = 0.0
    for kind, share in MIX.items():
        op, count = OPERATIONS[kind], n * share
        billed_ms = math.ceil(compute_ms + op.wait_ms)
        http_gb_s += count * billed_ms / 1000 * HTTP_MB / 1024
        rru += count * op.rru
        wru += count * (op.wru + op.jobs * op.job_wru)
        jobs += count * op.jobs
        job_gb_s += count * op.jobs * op.job_ms / 1000 * WORKER_MB / 1024
        github_writes += count * op.github_writes
    http_cold = cold_starts(n, HTTP_MB)
    worker_cold = cold_starts(jobs, WORKER_MB)
    http_gb_s += http_cold * init_http * HTTP_MB / 1024
    job_gb_s += worker_cold * init_worker * WORKER_MB / 1024

    # The schedule: every run is a cold start (15 minutes apart) and sweeps the outbox;
    # a sync pages through every app's issues on GitHub and through the index.
    syncs = 30 * 24 * 60 / sync_every_minutes
    pages = math.ceil(tier.indexed_issues / 100)
    sync_s = pages * (GITHUB_PAGE_MS + 10) / 1000
    schedule_gb_s = (SCHEDULE_RUNS * (init_worker + 0.05) + syncs * sync_s) * SCHEDULE_MB / 1024
    rru += SCHEDULE_RUNS + syncs * tier.indexed_issues * ITEM_KB / 4 * 0.5
    wru += syncs * tier.sync_changes_per_run * 10

    invocations = n + jobs + SCHEDULE_RUNS
    sqs_requests = jobs * 3 + SQS_IDLE_POLLERS * 30 * 24 * 3600 / 20
    storage_gb = tier.indexed_issues * ITEM_KB * INDEX_COPIES / 1024 / 1024
    logs_gb = invocations * LOG_BYTES_PER_INVOCATION / 1e9
    kms = (http_cold + worker_cold + SCHEDULE_RUNS) * SECRETS_PER_COLD_START
    gb_s = http_gb_s + job_gb_s + schedule_gb_s
    return {
        "invocations": invocations,
        "gb_seconds": gb_s,
        "cold_starts": http_cold + worker_cold + SCHEDULE_RUNS,
        "github_reads_per_hour": syncs * pages / (30 * 24),
        "sqs_requests": sqs_requests,
        "storage_gb": storage_gb,
        "logs_gb": logs_gb,
        "github_writes_per_hour": github_writes / (30 * 24),
        "API Gateway HTTP API": n / 1e6 * p["apigw_http_per_million"],
        "Lambda requests": invocations / 1e6 * p["lambda_request_per_million"],
        "Lambda GB-s (incl. INIT)": gb_s * p["lambda_arm_gb_second"],
        "DynamoDB reads": rru / 1e6 * p["dynamodb_rru_per_million"],
        "DynamoDB writes": wru / 1e6 * p["dynamodb_wru_per_million"],
        "DynamoDB storage + PITR": storage_gb
        * (p["dynamodb_storage_gb_month"] + p["dynamodb_pitr_gb_month"]),
        "SQS (jobs + idle polling)": sqs_requests / 1e6 * p["sqs_standard_per_million"],
        "CloudWatch alarm (DLQ)": p["cloudwatch_alarm_month"],
        "CloudWatch Logs": logs_gb * p["cloudwatch_logs_ingest_gb"],
        "KMS decrypts (SSM)": kms / 1e4 * p["kms_per_10k_requests"],
    }


COST_LINES = (
    "API Gateway HTTP API",
    "Lambda requests",
    "Lambda GB-s (incl. INIT)",
    "DynamoDB reads",
    "DynamoDB writes",
    "DynamoDB storage + PITR",
    "SQS (jobs + idle polling)",
    "CloudWatch alarm (DLQ)",
    "CloudWatch Logs",
    "KMS decrypts (SSM)",
)


def after_free_tier(usage: dict[str, float]) -> float:
    """The month's total once the always-free tier is taken off."""
    p, f = PRICES, FREE_TIER
    total = sum(usage[line] for line in COST_LINES)
    total -= min(usage["invocations"], f["lambda_requests"]) / 1e6 * p["lambda_request_per_million"]
    total -= min(usage["gb_seconds"], f["lambda_gb_seconds"]) * p["lambda_arm_gb_second"]
    total -= min(usage["sqs_requests"], f["sqs_requests"]) / 1e6 * p["sqs_standard_per_million"]
    total -= min(usage["storage_gb"], f["dynamodb_storage_gb"]) * p["dynamodb_storage_gb_month"]
    total -= usage["CloudWatch alarm (DLQ)"]  # one of the ten free alarms
    total -= min(usage["logs_gb"], f["cloudwatch_logs_gb"]) * p["cloudwatch_logs_ingest_gb"]
    return max(total, 0.0)


def main() -> int:
    m, source = measured()
    months = {n: month(TIER_SHAPES[n], m) for n in TIERS}
    mix = ", ".join(f"{share:.0%} {kind}s" for kind, share in MIX.items())
    print(f"Monthly AWS cost, us-east-1 list prices as of {PRICES_AS_OF}")
    print(f"Mix of API requests: {mix}.")
    print(
        f"Compute from {source}: cold start {m['cold_http'] * 1000:.0f} ms here ->"
        f" {on_lambda(m['cold_http'], HTTP_MB) * 1000 + 150:.0f} ms INIT at {HTTP_MB} MB;"
        f" warm compute {m['warm_http'] * 1000:.2f} ms here."
    )
    width = 28
    header = f"{'':<{width}}" + "".join(f"{f'{n:,} req':>14}" for n in TIERS)
    print("\n" + header)
    for line in COST_LINES:
        print(f"{line:<{width}}" + "".join(f"{months[n][line]:>14.4f}" for n in TIERS))
    totals = {n: sum(months[n][line] for line in COST_LINES) for n in TIERS}
    free = {n: after_free_tier(months[n]) for n in TIERS}
    print("-" * len(header))
    print(f"{'total, list price ($)':<{width}}" + "".join(f"{totals[n]:>14.2f}" for n in TIERS))
    print(f"{'total after free tier ($)':<{width}}" + "".join(f"{free[n]:>14.2f}" for n in TIERS))
    print(
        f"{'serverless reference ($)':<{width}}" + "".join(f"{REFERENCE[n]:>14.2f}" for n in TIERS)
    )
    goal = {n: REFERENCE[n] * GOAL_FRACTION for n in TIERS}
    print(f"{'goal: a quarter of it ($)':<{width}}" + "".join(f"{goal[n]:>14.2f}" for n in TIERS))
    for label, figures in (("list price", totals), ("after free tier", free)):
        verdicts = ", ".join(
            f"{n:,}: {figures[n] / REFERENCE[n]:.0%} of reference"
            + (" (met)" if figures[n] <= goal[n] else " (MISSED)")
            for n in TIERS
        )
        print(f"  {label}: {verdicts}")
    hourly = {
        n: sum(month(TIER_SHAPES[n], m, sync_every_minutes=60)[x] for x in COST_LINES)
        for n in TIERS
    }
    print(f"{'what if: sync hourly ($)':<{width}}" + "".join(f"{hourly[n]:>14.2f}" for n in TIERS))
    print("\nUsage behind the figures:")
    for n in TIERS:
        u = months[n]
        print(
            f"  {n:>9,} req: {u['invocations']:>10,.0f} invocations,"
            f" {u['cold_starts']:>7,.0f} cold starts, {u['gb_seconds']:>9,.0f} GB-s,"
            f" {u['sqs_requests']:>9,.0f} SQS requests,"
            f" GitHub writes {u['github_writes_per_hour']:.1f}/h, sync reads"
            f" {u['github_reads_per_hour']:.0f}/h ({TIER_SHAPES[n].indexed_issues:,} issues)"
        )
    print(
        "\nGitHub lets one App installation create about 500 pieces of content an hour"
        " (and ~80 a minute); at the 1M tier this mix averages"
        f" {months[1_000_000]['github_writes_per_hour']:.0f}/h, so bursts are paced, not lost."
        " Above ~360K creations a month per installation, work queues for good: spread apps"
        " over installations (repos of different owners) before that."
    )
    print(
        "The fixed part (the DLQ alarm, SQS's idle long polling by the event source mapping,"
        " the 15-minute schedule) dominates at 1K requests; the free tier absorbs it. The"
        " full sync grows with the index: every 15 minutes it is most of the Lambda time at"
        " 100K and 1M, and its GitHub reads count against the installation's 5,000/h."
    )
    analysis_cost()
    return 0


# --------------------------------------------------------------------------- Bedrock
# Amazon Nova Micro on-demand, us-east-1, per million tokens (same price date).
NOVA_MICRO_PER_MILLION = {"input": 0.035, "output": 0.14}
CHARS_PER_TOKEN = 4.0  # assumption: English prose and JSON schema, rough tokenizer average
TYPICAL_OUTPUT_TOKENS = 250  # assumption: a filled-in Analysis is ~900 characters


def analysis_tokens() -> tuple[int, int]:
    """Input tokens of a real analysis prompt for a 2,000-character request, and the output cap."""
    from bridge.analysis.model import AnalysisInput, input_schema
    from bridge.analysis.prompt import new_tag, system_prompt, user_message
    from bridge.settings import AnalysisSettings

    request = AnalysisInput(
        app_id="demo",
        number=42,
        title="Export reports as CSV with the filters applied",
        description="We need the report exported. " * 70,
        allowed_labels=("ux", "performance", "integrations"),
        candidates={n: f"A similar request title number {n}" for n in range(1, 6)},
    )
    tag = new_tag()
    characters = (
        len(system_prompt(tag))
        + len(user_message(request, tag))
        + len(json.dumps(input_schema(request)))
    )
    return math.ceil(characters / CHARS_PER_TOKEN), AnalysisSettings().max_tokens


def analysis_cost() -> None:
    """Print what one analysis costs on the default model, typical and worst case."""
    from bridge.analysis.bedrock import ATTEMPTS, DEFAULT_MODEL_ID

    prompt, cap = analysis_tokens()
    price = NOVA_MICRO_PER_MILLION

    def cost(output: int, attempts: int) -> float:
        return attempts * (prompt * price["input"] + output * price["output"]) / 1e6

    typical, worst = cost(TYPICAL_OUTPUT_TOKENS, 1), cost(cap, ATTEMPTS)
    print(
        f"\nAmazon Bedrock analysis on {DEFAULT_MODEL_ID} (${price['input']}/M input,"
        f" ${price['output']}/M output): prompt ~{prompt:,} tokens (2,000-character request),"
        f" output ~{TYPICAL_OUTPUT_TOKENS} typical, {cap} cap."
    )
    verdict = "met" if worst < 0.001 else "MISSED"
    print(
        f"  per analysis: ${typical:.6f} typical; ${worst:.6f} worst case (malformed answer"
        f" retried, both at the output cap); goal under $0.001: {verdict}."
        f" 100K analyses a month: ${typical * 100_000:.2f}."
    )


if __name__ == "__main__":
    sys.exit(main())
