"""What Feature Bridge costs a month on AWS at 1K, 100K and 1M API requests.

    .venv/bin/python bench/cost.py

List prices of the date below, us-east-1. Two tables:

* **infrastructure**, what the published serverless reference covers and what
  this stack adds to it, each priced on its own line: API Gateway HTTP API,
  Lambda (arm64 GB-seconds including the billed INIT phase, and requests),
  DynamoDB on demand (request units, storage, point-in-time recovery), SQS,
  CloudWatch Logs of the functions and the API's access log, KMS decrypts of
  the SSM SecureStrings, the SNS topic of events, the webhook deliveries, the
  widget's ``/similar`` calls while someone types, observability (alarms and
  the schedule's embedded metric) and X-Ray traces (``Tracing: Active``);
* **per-use services**, off until configured and not in the reference:
  Bedrock analysis, Bedrock embeddings, S3 Vectors queries and SES email.

Every figure is either measured here or an assumption stated beside it:

* cold-start and warm compute times come from ``build/bench/coldstart.json``
  when ``bench/coldstart.py`` has run (otherwise the defaults below), scaled
  from this machine's full core to Lambda's CPU share at the function's memory
  (1,769 MB = one vCPU);
* DynamoDB request units per operation come from ``bench/store.py``'s "AWS
  est." column (DynamoDB's billing rules applied to the bridge's items);
* what is deployed (memory sizes, which functions are traced, every alarm and the
  metrics it reads, event sources polling SQS, the schedule's rate, the secrets
  read per process, the access log's format, point-in-time recovery) is read
  from ``lambda/template.yaml`` itself, so the bench prices what the stack creates;
* network waits (DynamoDB, SQS, GitHub) and the workload's shape are assumptions.

Two totals are printed: list price, and after AWS's always-free tier (Lambda
1M requests + 400K GB-s, SQS 1M requests, SNS 1M publishes, DynamoDB 25 GB,
CloudWatch 10 alarm metrics + 10 custom metrics + 5 GB logs, X-Ray 100K traces;
API Gateway's and SES's free tiers last 12 months only, so they are not
counted). The goal is a quarter of the published serverless reference; where
a tier misses it, the bench says which lines the requirements fix (tracing,
the alarms, the job queue's polling) and what the month costs without them.
"""

from __future__ import annotations

import json
import math
import re
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bridge.metrics import OLDEST_PENDING_AGE
from bridge.secrets import SSM_SUFFIX
from bridge.settings import ServerSettings
from tests.cfn_template import load_template, resources_of

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
    "sns_publish_per_million": 0.50,  # standard topic; deliveries to SQS/Lambda are free
    "cloudwatch_alarm_metric_month": 0.10,  # standard resolution, per metric in the alarm
    "cloudwatch_alarm_high_res_metric_month": 0.30,  # periods under a minute
    "cloudwatch_custom_metric_month": 0.30,  # prorated by the hour it is published in
    "cloudwatch_logs_ingest_gb": 0.50,
    "xray_trace_per_million": 5.00,  # traces recorded
    "kms_per_10k_requests": 0.03,  # aws/ssm managed key: no monthly key fee
    "ses_per_thousand": 0.10,  # outbound email
    "s3vectors_query_per_million": 2.50,  # query API calls (data processed: negligible here)
    "titan_embed_v2_per_million_tokens": 0.02,
}
FREE_TIER = {
    "lambda_requests": 1_000_000,
    "lambda_gb_seconds": 400_000,
    "sqs_requests": 1_000_000,
    "sns_publishes": 1_000_000,
    "dynamodb_storage_gb": 25,
    "cloudwatch_alarm_metrics": 10,
    "cloudwatch_custom_metrics": 10,
    "cloudwatch_logs_gb": 5,
    "xray_traces": 100_000,
}
REFERENCE = {1_000: 0.83, 100_000: 4.35, 1_000_000: 43.50}  # published serverless reference
GOAL_FRACTION = 0.25
TIERS = (1_000, 100_000, 1_000_000)

# --------------------------------------------------------------------------- the workload
# Share of API requests by kind: the widget mostly reads.
MIX = {"listing": 0.70, "vote": 0.18, "submission": 0.04, "webhook": 0.08}
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


# Units from bench/store.py's AWS estimates (2026-12): list top 20 = 1.5 RRU, with q=
# 8.5 (10% of listings); rate-limit hit 1 WRU; submit 5; claim 2; mark delivered 13;
# add_vote 15 (the vote and the request's counts in one transaction, the request's
# copies in the six listing indexes rewritten with its new order keys); record_tally 8.
OPERATIONS = {
    "listing": Operation(rru=0.9 * 1.5 + 0.1 * 8.5, wru=0, wait_ms=8),
    # Votes: rate limit 1 + add_vote 15; then a tally job for the issue's comment,
    # coalesced to at most one write a minute (~half), each recording the tally (8).
    "vote": Operation(
        rru=2, wru=16, wait_ms=20, jobs=0.5, job_ms=400, job_wru=8, github_writes=0.5
    ),
    # Submissions: rate limit 1 + create 5 + claim 2 + mark delivered 13; reads of the
    # submission and request (4); GitHub's create answers within the inline wait (~800 ms
    # waiting); then an analysis job (one comment) and a delivery job in 10% of cases.
    "submission": Operation(
        rru=4, wru=21, wait_ms=900, jobs=1.1, job_ms=1500, job_wru=3, github_writes=2
    ),
    # Webhooks: the delivery id and the request's changes in one transaction (~10 WRU,
    # assumed: bench/store.py does not apply webhooks).
    "webhook": Operation(rru=1, wru=10, wait_ms=15),
}
# The widget and the hosted form ask /similar when the typing pauses (debounced), so
# each submission is preceded by a few searches, on top of the tier's requests: the
# rate limit 1 WRU, the bounded title match ~4 RRU on DynamoDB.
SIMILAR_PER_SUBMISSION = 3
SIMILAR = Operation(rru=4, wru=1, wait_ms=12)
# Events per submission over its life: request.created, ~0.5 status changes, ~0.1
# milestones. Each is one notification job (SNS and the app's webhooks: one target
# assumed), ~300 ms of worker time, its delivery records ~6 WRU + 2 RRU.
EVENTS_PER_SUBMISSION = 1.6
STATUS_CHANGES_PER_SUBMISSION = 0.5
WEBHOOK_TARGETS = 1
NOTIFY_JOB_MS, NOTIFY_WRU, NOTIFY_RRU = 300, 6, 2
ITEM_KB = 0.6  # a request item in the index, with its index copies counted apiece
INDEX_COPIES = 3  # the request item, a listing GSI and a status GSI, on average
LOG_BYTES_PER_INVOCATION = 300  # JSON application lines; platform lines at WARN only
# What API Gateway writes for each $context variable of the access log's format in a
# typical request (a listing); the line's size is the template's format filled with these.
ACCESS_LOG_VALUES = {
    "$context.requestId": "JiYbqhD0IAMEVhw=",
    "$context.identity.sourceIp": "203.0.113.195",
    "$context.requestTime": "04/Dec/2026:10:15:02 +0000",
    "$context.httpMethod": "GET",
    "$context.path": "/v1/apps/mobile/requests",
    "$context.status": "200",
    "$context.responseLength": "2345",
    "$context.responseLatency": "14",
    "$context.integrationErrorMessage": "-",
}
IDLE_RECLAIM_MINUTES = 10  # Lambda reclaims an idle environment after roughly this long
RECYCLES_PER_DAY = 12  # environments are also replaced now and then, busy or not
# Assumed: each event source mapping on SQS keeps five 20-second long polls open on an
# idle queue (~648K ReceiveMessage requests a month); check the bill of a real deployment.
SQS_IDLE_POLLERS = 5
# The schedule writes the pending age only while something waits for GitHub: the custom
# metric is billed for the hours it is published in (assumed: 5% of hours). Any other
# custom metric an alarm reads is priced as published all month.
PENDING_HOURS_SHARE = 0.05
# Lambda's active tracing records the first invocation each second and 5% of the rest
# of each function. Lambda's documentation: the rate cannot be configured for a function,
# and X-Ray sampling rules steer API Gateway REST stages and the X-Ray/OpenTelemetry
# SDKs, not Lambda's own sampling (an HTTP API passes no sampling decision on).
XRAY_RESERVOIR_PER_SECOND, XRAY_RATE = 1.0, 0.05
# SES: each status change emails the submitter and the opted-in voters (~3 addresses),
# plus one double opt-in confirmation per submission without a voter token (~half).
EMAILS_PER_STATUS_CHANGE, CONFIRMATIONS_PER_SUBMISSION = 3, 0.5
EMBED_TOKENS_REQUEST, EMBED_TOKENS_DRAFT = 300, 40


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
MONTH_MINUTES = 30 * 24 * 60
# [server] full_sync_interval_minutes: the schedule's other runs sync incrementally.
FULL_SYNC_MINUTES = ServerSettings().full_sync_interval_minutes
GITHUB_PAGE_MS = 300  # one REST page of 100 issues


# --------------------------------------------------------------------------- the stack


@dataclass(frozen=True)
class Alarm:
    """One CloudWatch alarm of the template: billed per metric it reads."""

    name: str
    metrics: int
    price_each: float


@dataclass(frozen=True)
class Deployed:
    """What lambda/template.yaml deploys, as far as the bill goes."""

    memory_mb: dict[str, int]  # by function
    traced: frozenset[str]  # functions with Tracing: Active
    sampling_rules: int  # AWS::XRay::SamplingRule resources (Lambda's sampling ignores them)
    alarms: tuple[Alarm, ...]
    custom_metrics: tuple[str, ...]  # metrics alarms read outside the AWS/ namespaces
    sqs_event_sources: int  # event source mappings long-polling a queue of the stack
    batch_size: int  # the worker's event source: jobs per invocation at most
    batch_window_s: float  # ...and how long it gathers them
    sync_minutes: int  # SyncIntervalMinutes' default: one scheduled run each
    # SSM SecureStrings read once per process, a KMS decrypt each (an upper bound: with the
    # AWS managed aws/ssm key they may fall in KMS's free 20K requests a month).
    secrets: int
    access_log_bytes: int  # one line per API request
    pitr: bool

    @property
    def schedule_runs(self) -> int:
        return MONTH_MINUTES // self.sync_minutes

    def jobs_per_invocation(self, jobs_per_second: float) -> float:
        """Jobs the worker's event source hands over per invocation (Poisson arrivals):
        the first job opens a batch, those arriving within the window join it."""
        joining = jobs_per_second * self.batch_window_s
        chance, mean, below = math.exp(-joining), 0.0, 0.0
        for k in range(self.batch_size - 1):
            mean += chance * (1 + k)
            below += chance
            chance *= joining / (k + 1)
        return mean + (1 - below) * self.batch_size

    @property
    def alarm_metrics(self) -> int:
        return sum(alarm.metrics for alarm in self.alarms)

    def custom_metric_months(self) -> float:
        """Custom metrics, in metric-months: the pending age only while something waits."""
        return sum(
            PENDING_HOURS_SHARE if name == OLDEST_PENDING_AGE else 1.0
            for name in self.custom_metrics
        )


def deployed(template: dict[str, Any]) -> Deployed:
    """Read the billed shape of the stack from the SAM template."""
    resources = template["Resources"]
    functions = resources_of(template, "AWS::Serverless::Function")
    shared = template["Globals"]["Function"]
    alarms, custom = [], []
    for name, alarm in resources_of(template, "AWS::CloudWatch::Alarm").items():
        props = alarm["Properties"]
        # A metric-math alarm is billed for each metric it reads, not its expressions.
        stats = [m["MetricStat"] for m in props.get("Metrics", []) if "MetricStat" in m]
        metrics = [stat["Metric"] for stat in stats] or [props]
        period = min(stat["Period"] for stat in stats) if stats else props["Period"]
        price = PRICES[
            "cloudwatch_alarm_metric_month"
            if period >= 60
            else "cloudwatch_alarm_high_res_metric_month"
        ]
        alarms.append(Alarm(name, len(metrics), price))
        custom += [m["MetricName"] for m in metrics if not m["Namespace"].startswith("AWS/")]
    queues = set(resources_of(template, "AWS::SQS::Queue"))
    mappings = [
        m["Properties"]
        for m in resources_of(template, "AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["EventSourceArn"]["Fn::GetAtt"][0] in queues
    ]
    [worker_source] = [m for m in mappings if m["FunctionName"] == {"Ref": "WorkerFunction"}]
    sources = len(mappings)
    sources += sum(
        1
        for function in functions.values()
        for event in function["Properties"].get("Events", {}).values()
        if event["Type"] == "SQS"
    )
    log_format = resources["HttpApi"]["Properties"]["AccessLogSettings"]["Format"]
    line = re.sub(r"\$context\.[A-Za-z.]+", lambda m: ACCESS_LOG_VALUES[m.group(0)], log_format)
    recovery = resources["IndexTable"]["Properties"].get("PointInTimeRecoverySpecification", {})
    return Deployed(
        memory_mb={name: int(f["Properties"]["MemorySize"]) for name, f in functions.items()},
        traced=frozenset(
            name
            for name, f in functions.items()
            if f["Properties"].get("Tracing", shared.get("Tracing")) == "Active"
        ),
        sampling_rules=len(resources_of(template, "AWS::XRay::SamplingRule")),
        alarms=tuple(alarms),
        custom_metrics=tuple(custom),
        sqs_event_sources=sources,
        batch_size=int(worker_source.get("BatchSize", 10)),
        batch_window_s=float(worker_source.get("MaximumBatchingWindowInSeconds", 0)),
        sync_minutes=int(template["Parameters"]["SyncIntervalMinutes"]["Default"]),
        secrets=sum(1 for name in shared["Environment"]["Variables"] if name.endswith(SSM_SUFFIX)),
        access_log_bytes=len(line.encode()) + 1,  # and its newline
        pitr=bool(recovery.get("PointInTimeRecoveryEnabled")),
    )


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
    per_minute = invocations / MONTH_MINUTES
    idle = invocations * math.exp(-per_minute * IDLE_RECLAIM_MINUTES)
    return min(invocations, idle + RECYCLES_PER_DAY * 30) if invocations else 0.0


def traced(invocations: float) -> float:
    """Traces X-Ray records a month for a function invoked this often (Poisson arrivals):
    the first invocation of each second that has one, and 5% of the others."""
    per_second = invocations / (MONTH_MINUTES * 60)
    seconds_with_one = 1 - math.exp(-per_second)
    first = min(seconds_with_one, XRAY_RESERVOIR_PER_SECOND)
    return (first + XRAY_RATE * max(0.0, per_second - first)) * MONTH_MINUTES * 60


# --------------------------------------------------------------------------- the model


def month(
    tier: Tier,
    m: dict[str, float],
    d: Deployed,
    *,
    full_sync_minutes: int = FULL_SYNC_MINUTES,
) -> dict[str, float]:
    """Usage and list-price cost lines for one month."""
    p = PRICES
    n = tier.requests
    http_mb = d.memory_mb["HttpFunction"]
    worker_mb, schedule_mb = d.memory_mb["WorkerFunction"], d.memory_mb["ScheduleFunction"]
    runtime_start = 0.15  # Lambda's own runtime start before our imports, assumed
    init_http = on_lambda(m["cold_http"], http_mb) + runtime_start
    init_worker = on_lambda(m["cold_http"], worker_mb) + runtime_start
    init_schedule = on_lambda(m["cold_http"], schedule_mb) + runtime_start
    compute_ms = on_lambda(m["warm_http"], http_mb) * 1000 + 1.5  # + Mangum's hop

    def http_gb_s(op: Operation, count: float) -> float:
        return count * math.ceil(compute_ms + op.wait_ms) / 1000 * http_mb / 1024

    gb_s = rru = wru = jobs = github_writes = 0.0
    for kind, share in MIX.items():
        op, count = OPERATIONS[kind], n * share
        gb_s += http_gb_s(op, count) + count * op.jobs * op.job_ms / 1000 * worker_mb / 1024
        rru += count * op.rru
        wru += count * (op.wru + op.jobs * op.job_wru)
        jobs += count * op.jobs
        github_writes += count * op.github_writes
    submissions = n * MIX["submission"]
    # Events: one notification job each (SNS publish + the webhooks), at least once.
    events = submissions * EVENTS_PER_SUBMISSION
    notify_jobs = events
    # The worker's event source batches jobs: invocations (billed, traced) are fewer.
    per_invocation = d.jobs_per_invocation((jobs + notify_jobs) / (MONTH_MINUTES * 60))
    job_invocations, notify_invocations = jobs / per_invocation, notify_jobs / per_invocation
    http_cold = cold_starts(n, http_mb)
    worker_cold = cold_starts(job_invocations + notify_invocations, worker_mb)
    gb_s += http_cold * init_http * http_mb / 1024 + worker_cold * init_worker * worker_mb / 1024

    # The schedule: every run is a cold start (minutes apart), sweeps the outbox and
    # syncs: a full pass (every page of issues, the whole index read) at least every
    # full_sync_minutes, otherwise one page of issues updated since and their items.
    runs = d.schedule_runs
    full = MONTH_MINUTES / max(full_sync_minutes, d.sync_minutes)
    incremental = max(0.0, runs - full)
    pages = math.ceil(tier.indexed_issues / 100)
    sync_s = full * pages * (GITHUB_PAGE_MS + 10) / 1000 + incremental * GITHUB_PAGE_MS / 1000
    gb_s += (runs * (init_schedule + 0.05) + sync_s) * schedule_mb / 1024
    rru += runs + full * tier.indexed_issues * ITEM_KB / 4 * 0.5
    rru += incremental * tier.sync_changes_per_run * 2
    wru += runs * tier.sync_changes_per_run * 10

    # /similar while typing: its own requests, on top of the tier's.
    similar = submissions * SIMILAR_PER_SUBMISSION
    similar_cost = (
        similar / 1e6 * (p["apigw_http_per_million"] + p["lambda_request_per_million"])
        + http_gb_s(SIMILAR, similar) * p["lambda_arm_gb_second"]
        + similar * SIMILAR.rru / 1e6 * p["dynamodb_rru_per_million"]
        + similar * SIMILAR.wru / 1e6 * p["dynamodb_wru_per_million"]
    )
    notify_gb_s = notify_jobs * NOTIFY_JOB_MS / 1000 * worker_mb / 1024
    webhooks_cost = (
        notify_invocations / 1e6 * p["lambda_request_per_million"]
        + notify_gb_s * p["lambda_arm_gb_second"]
        + notify_jobs * 3 / 1e6 * p["sqs_standard_per_million"]
        + events * WEBHOOK_TARGETS * NOTIFY_WRU / 1e6 * p["dynamodb_wru_per_million"]
        + events * WEBHOOK_TARGETS * NOTIFY_RRU / 1e6 * p["dynamodb_rru_per_million"]
    )

    invocations = n + job_invocations + runs
    job_requests = jobs * 3  # send, receive, delete
    idle_polls = d.sqs_event_sources * SQS_IDLE_POLLERS * 30 * 24 * 3600 / 20
    storage_gb = tier.indexed_issues * ITEM_KB * INDEX_COPIES / 1024 / 1024
    logs_gb = invocations * LOG_BYTES_PER_INVOCATION / 1e9
    access_logs_gb = (n + similar) * d.access_log_bytes / 1e9
    kms = (http_cold + worker_cold + runs) * d.secrets
    by_function = {
        "HttpFunction": n + similar,
        "WorkerFunction": job_invocations + notify_invocations,
        "ScheduleFunction": runs,
    }
    traces = sum(traced(count) for name, count in by_function.items() if name in d.traced)
    custom_metrics = d.custom_metric_months()
    observability = (
        sum(alarm.metrics * alarm.price_each for alarm in d.alarms)
        + custom_metrics * p["cloudwatch_custom_metric_month"]
    )
    # Per-use services (off until configured): every submission analysed and embedded,
    # every draft typed into /similar embedded and searched.
    from_analysis = submissions * analysis_cost_each()
    embed_tokens = submissions * EMBED_TOKENS_REQUEST + similar * EMBED_TOKENS_DRAFT
    emails = submissions * (
        STATUS_CHANGES_PER_SUBMISSION * EMAILS_PER_STATUS_CHANGE + CONFIRMATIONS_PER_SUBMISSION
    )
    recovery = p["dynamodb_pitr_gb_month"] if d.pitr else 0.0
    return {
        "invocations": invocations + similar + notify_invocations,
        "jobs_per_invocation": per_invocation,
        "gb_seconds": gb_s + http_gb_s(SIMILAR, similar) + notify_gb_s,
        "cold_starts": http_cold + worker_cold + runs,
        "github_reads_per_hour": (full * pages + incremental) / (30 * 24),
        "sqs_requests": job_requests + idle_polls + notify_jobs * 3,
        "sns_publishes": events,
        "storage_gb": storage_gb,
        "logs_gb": logs_gb + access_logs_gb,
        "traces": traces,
        "alarm_metrics": d.alarm_metrics,
        "custom_metrics": custom_metrics,
        "github_writes_per_hour": github_writes / (30 * 24),
        "API Gateway HTTP API": n / 1e6 * p["apigw_http_per_million"],
        "Lambda requests": invocations / 1e6 * p["lambda_request_per_million"],
        "Lambda GB-s (incl. INIT)": gb_s * p["lambda_arm_gb_second"],
        "DynamoDB reads": rru / 1e6 * p["dynamodb_rru_per_million"],
        "DynamoDB writes": wru / 1e6 * p["dynamodb_wru_per_million"],
        "DynamoDB storage + PITR": storage_gb * (p["dynamodb_storage_gb_month"] + recovery),
        "SQS jobs": job_requests / 1e6 * p["sqs_standard_per_million"],
        "SQS idle polling (event source)": idle_polls / 1e6 * p["sqs_standard_per_million"],
        "CloudWatch Logs (functions)": logs_gb * p["cloudwatch_logs_ingest_gb"],
        "KMS decrypts (SSM)": kms / 1e4 * p["kms_per_10k_requests"],
        "Access log (HTTP API)": access_logs_gb * p["cloudwatch_logs_ingest_gb"],
        "SNS events": events / 1e6 * p["sns_publish_per_million"],
        "Webhooks (jobs, records)": webhooks_cost,
        "/similar while typing": similar_cost,
        "Observability: alarms, metric": observability,
        "Observability: X-Ray traces": traces / 1e6 * p["xray_trace_per_million"],
        "Bedrock analysis": from_analysis,
        "Bedrock embeddings": embed_tokens / 1e6 * p["titan_embed_v2_per_million_tokens"],
        "S3 Vectors queries": (similar + submissions) / 1e6 * p["s3vectors_query_per_million"],
        "SES email": emails / 1000 * p["ses_per_thousand"],
    }


COST_LINES = (
    "API Gateway HTTP API",
    "Lambda requests",
    "Lambda GB-s (incl. INIT)",
    "DynamoDB reads",
    "DynamoDB writes",
    "DynamoDB storage + PITR",
    "SQS jobs",
    "SQS idle polling (event source)",
    "CloudWatch Logs (functions)",
    "KMS decrypts (SSM)",
    "Access log (HTTP API)",
    "SNS events",
    "Webhooks (jobs, records)",
    "/similar while typing",
    "Observability: alarms, metric",
    "Observability: X-Ray traces",
)
PER_USE_LINES = ("Bedrock analysis", "Bedrock embeddings", "S3 Vectors queries", "SES email")
# Lines a requirement holds where they are, each with the requirement: at a tier that
# misses the quarter, the bench takes them off one by one, largest first.
FIXED_BY_REQUIREMENTS = {
    "Observability: X-Ray traces": "Tracing: Active on every function, sampled by Lambda's"
    " fixed rule (the first invocation each second and 5% of the rest)",
    "Observability: alarms, metric": "alarms on the 5xx rate (5xx answers over requests, two"
    " metrics), worker errors, dead letters (failed scheduled runs too) and the oldest pending"
    " submission (the schedule's metric)",
    "SQS idle polling (event source)": "the job queue: delayed jobs (tallies, retries, GitHub's"
    " pacing) need SQS's DelaySeconds, which Lambda's asynchronous invoke lacks, and SES"
    " feedback arrives through it",
}


def after_free_tier(usage: dict[str, float]) -> float:
    """The infrastructure's month once the always-free tier is taken off (an upper bound:
    the webhook and /similar lines' own Lambda and SQS use is not credited)."""
    p, f = PRICES, FREE_TIER
    total = sum(usage[line] for line in COST_LINES)
    credits = (
        min(usage["invocations"], f["lambda_requests"]) / 1e6 * p["lambda_request_per_million"],
        min(usage["gb_seconds"], f["lambda_gb_seconds"]) * p["lambda_arm_gb_second"],
        min(usage["sqs_requests"], f["sqs_requests"]) / 1e6 * p["sqs_standard_per_million"],
        min(usage["sns_publishes"], f["sns_publishes"]) / 1e6 * p["sns_publish_per_million"],
        min(usage["storage_gb"], f["dynamodb_storage_gb"]) * p["dynamodb_storage_gb_month"],
        min(usage["alarm_metrics"], f["cloudwatch_alarm_metrics"])
        * p["cloudwatch_alarm_metric_month"],
        min(usage["custom_metrics"], f["cloudwatch_custom_metrics"])
        * p["cloudwatch_custom_metric_month"],
        min(usage["logs_gb"], f["cloudwatch_logs_gb"]) * p["cloudwatch_logs_ingest_gb"],
        min(usage["traces"], f["xray_traces"]) / 1e6 * p["xray_trace_per_million"],
    )
    lines = (
        "Lambda requests",
        "Lambda GB-s (incl. INIT)",
        "SQS jobs",
        "SQS idle polling (event source)",
    )
    # Credits never exceed what the lines they belong to charge.
    capped = min(sum(credits[:3]), sum(usage[line] for line in lines)) + sum(credits[3:])
    return max(total - capped, 0.0)


def table(months: dict[int, dict[str, float]], lines: tuple[str, ...], width: int) -> None:
    """One row per cost line, one column per tier."""
    for line in lines:
        print(f"{line:<{width}}" + "".join(f"{months[n][line]:>14.4f}" for n in TIERS))


def shortfall(n: int, lines: dict[str, float], total: float) -> str:
    """Why a tier misses the quarter: its excess, then the month without each line a
    requirement fixes, largest first, until the rest would meet the goal."""
    goal = REFERENCE[n] * GOAL_FRACTION
    said = [f"{n:,}: ${total:.2f} is ${total - goal:.2f} over the quarter (${goal:.2f})"]
    rest = total
    for line in sorted(FIXED_BY_REQUIREMENTS, key=lambda name: -lines[name]):
        rest -= lines[line]
        verdict = "met" if rest <= goal else "still over"
        said.append(f"without {line} (${lines[line]:.2f}): ${rest:.2f}, {verdict}")
        if rest <= goal:
            break
    return "; ".join(said)


def main() -> int:
    m, source = measured()
    d = deployed(load_template())
    months = {n: month(TIER_SHAPES[n], m, d) for n in TIERS}
    mix = ", ".join(f"{share:.0%} {kind}s" for kind, share in MIX.items())
    http_mb = d.memory_mb["HttpFunction"]
    print(f"Monthly AWS cost, us-east-1 list prices as of {PRICES_AS_OF}")
    print(
        f"Mix of API requests: {mix}; plus {SIMILAR_PER_SUBMISSION} /similar calls per"
        f" submission. Sync every {d.sync_minutes} minutes, a full pass every"
        f" {FULL_SYNC_MINUTES} (full_sync_interval_minutes), incremental between."
    )
    print(
        f"Compute from {source}: cold start {m['cold_http'] * 1000:.0f} ms here ->"
        f" {on_lambda(m['cold_http'], http_mb) * 1000 + 150:.0f} ms INIT at {http_mb} MB;"
        f" warm compute {m['warm_http'] * 1000:.2f} ms here."
    )
    alarms = ", ".join(f"{a.name} {a.metrics}" for a in d.alarms)
    print(
        "From lambda/template.yaml: memory "
        + ", ".join(f"{name} {mb} MB" for name, mb in d.memory_mb.items())
        + f"; traced: {', '.join(sorted(d.traced)) or 'none'}; alarm metrics"
        f" {d.alarm_metrics} ({alarms}); custom metrics {', '.join(d.custom_metrics) or 'none'};"
        f" SQS event sources {d.sqs_event_sources}; {d.secrets} SSM secrets a process;"
        f" access log {d.access_log_bytes} bytes a request; PITR {'on' if d.pitr else 'off'}."
    )
    if d.sampling_rules:
        print(
            f"  {d.sampling_rules} X-Ray sampling rule(s) in the template: Lambda's active"
            " tracing does not apply them, so the traces below are unchanged by them."
        )
    width = 33
    header = f"{'infrastructure':<{width}}" + "".join(f"{f'{n:,} req':>14}" for n in TIERS)
    print("\n" + header)
    table(months, COST_LINES, width)
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
    missed = [n for n in TIERS if totals[n] > goal[n]]
    if missed:
        print("Where the list price misses the quarter, the lines the requirements fix:")
        for n in missed:
            print(f"  {shortfall(n, months[n], totals[n])}")
        for line, why in FIXED_BY_REQUIREMENTS.items():
            print(f"  {line}: {why}.")
    every = {
        n: sum(month(TIER_SHAPES[n], m, d, full_sync_minutes=d.sync_minutes)[x] for x in COST_LINES)
        for n in TIERS
    }
    print(
        f"{'what if: every sync full ($)':<{width}}" + "".join(f"{every[n]:>14.2f}" for n in TIERS)
    )
    unbatched = replace(d, batch_window_s=1)
    one_second = {n: sum(month(TIER_SHAPES[n], m, unbatched)[x] for x in COST_LINES) for n in TIERS}
    print(
        f"{'what if: jobs gathered 1 s ($)':<{width}}"
        + "".join(f"{one_second[n]:>14.2f}" for n in TIERS)
    )
    print("\n" + f"{'per-use (off until configured)':<{width}}" + header[width:])
    table(months, PER_USE_LINES, width)
    per_use = {n: sum(months[n][line] for line in PER_USE_LINES) for n in TIERS}
    print("-" * len(header))
    print(f"{'per-use total ($)':<{width}}" + "".join(f"{per_use[n]:>14.2f}" for n in TIERS))
    print(
        f"{'everything on, list ($)':<{width}}"
        + "".join(f"{totals[n] + per_use[n]:>14.2f}" for n in TIERS)
    )
    print("\nUsage behind the figures:")
    for n in TIERS:
        u = months[n]
        print(
            f"  {n:>9,} req: {u['invocations']:>10,.0f} invocations,"
            f" {u['cold_starts']:>7,.0f} cold starts, {u['gb_seconds']:>9,.0f} GB-s,"
            f" {u['sqs_requests']:>9,.0f} SQS requests, {u['traces']:>9,.0f} traces,"
            f" {u['jobs_per_invocation']:.2f} jobs a worker invocation,"
            f" GitHub writes {u['github_writes_per_hour']:.1f}/h, sync reads"
            f" {u['github_reads_per_hour']:.1f}/h ({TIER_SHAPES[n].indexed_issues:,} issues)"
        )
    print(
        "\nGitHub lets one App installation create about 500 pieces of content an hour"
        " (and ~80 a minute); at the 1M tier this mix averages"
        f" {months[1_000_000]['github_writes_per_hour']:.0f}/h, so bursts are paced, not lost."
        " Above ~360K creations a month per installation, work queues for good: spread apps"
        " over installations (repos of different owners) before that."
    )
    fixed = {
        line: months[TIERS[0]][line]
        for line in ("Observability: alarms, metric", "SQS idle polling (event source)")
    }
    print(
        "Fixed each month whatever the traffic: "
        + ", ".join(f"{line} ${cost:.2f}" for line, cost in fixed.items())
        + f", and the schedule's {d.schedule_runs:,} runs. Lambda traces nearly every"
        " invocation below one a second, so X-Ray grows with the traffic: it is the largest"
        " line at 100K and 1M."
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


def analysis_cost_each() -> float:
    """One typical analysis on the default model, in dollars."""
    prompt, _ = analysis_tokens()
    price = NOVA_MICRO_PER_MILLION
    return (prompt * price["input"] + TYPICAL_OUTPUT_TOKENS * price["output"]) / 1e6


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
