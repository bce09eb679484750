"""``bench/cost.py`` prices what ``lambda/template.yaml`` deploys, read from the template."""

from __future__ import annotations

import copy
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.cfn_template import load_template, resources_of

COST_PY = Path(__file__).resolve().parent.parent / "bench" / "cost.py"


@pytest.fixture(scope="module")
def cost() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_cost", COST_PY)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def template() -> dict[str, Any]:
    return load_template()


def total(cost: ModuleType, template: dict[str, Any], requests: int) -> dict[str, float]:
    figures = {"cold_http": 0.3, "cold_bare": 0.17, "warm_http": 0.001}
    return cost.month(cost.TIER_SHAPES[requests], figures, cost.deployed(template))  # type: ignore[no-any-return]


def test_it_reads_the_stack_it_prices(cost: ModuleType, template: dict[str, Any]) -> None:
    deployed = cost.deployed(template)
    functions = resources_of(template, "AWS::Serverless::Function")
    assert deployed.memory_mb == {n: f["Properties"]["MemorySize"] for n, f in functions.items()}
    assert deployed.traced == set(functions)
    alarms = resources_of(template, "AWS::CloudWatch::Alarm")
    assert {alarm.name for alarm in deployed.alarms} == set(alarms)
    # The 5xx rate's metric math reads two metrics and is billed for both.
    assert {a.name: a.metrics for a in deployed.alarms}["HttpErrorRateAlarm"] == 2
    assert deployed.custom_metrics == ("OldestPendingSubmissionAge",)
    assert deployed.sqs_event_sources == 1
    mapping = template["Resources"]["WorkerQueueMapping"]["Properties"]
    assert deployed.batch_window_s == mapping["MaximumBatchingWindowInSeconds"]
    assert deployed.secrets == 3
    assert deployed.sync_minutes == template["Parameters"]["SyncIntervalMinutes"]["Default"]
    # Every $context variable of the access log has a typical value (else a KeyError).
    assert 150 < deployed.access_log_bytes < 400


def test_an_alarm_added_to_the_template_is_billed(
    cost: ModuleType, template: dict[str, Any]
) -> None:
    before = total(cost, template, 1_000)["Observability: alarms, metric"]
    grown = copy.deepcopy(template)
    grown["Resources"]["ExtraAlarm"] = copy.deepcopy(grown["Resources"]["WorkerErrorAlarm"])
    after = total(cost, grown, 1_000)["Observability: alarms, metric"]
    assert after == pytest.approx(before + cost.PRICES["cloudwatch_alarm_metric_month"])


def test_a_sampling_rule_does_not_change_what_lambda_traces(
    cost: ModuleType, template: dict[str, Any]
) -> None:
    ruled = copy.deepcopy(template)
    ruled["Resources"]["Sampling"] = {
        "Type": "AWS::XRay::SamplingRule",
        "Properties": {"SamplingRule": {"FixedRate": 0.01, "ReservoirSize": 0}},
    }
    assert cost.deployed(ruled).sampling_rules == 1
    line = "Observability: X-Ray traces"
    assert total(cost, ruled, 100_000)[line] == total(cost, template, 100_000)[line]
    untraced = copy.deepcopy(template)
    untraced["Globals"]["Function"]["Tracing"] = "PassThrough"
    assert total(cost, untraced, 100_000)[line] == 0


def test_batched_jobs_mean_fewer_worker_invocations(
    cost: ModuleType, template: dict[str, Any]
) -> None:
    deployed = cost.deployed(template)
    assert deployed.jobs_per_invocation(0.0) == 1.0
    # Jobs far faster than the window fill every batch.
    assert deployed.jobs_per_invocation(1_000.0) == pytest.approx(deployed.batch_size)
    rate = 0.08  # jobs a second, about the 1M tier's
    gathered = deployed.jobs_per_invocation(rate)
    assert gathered == pytest.approx(1 + rate * deployed.batch_window_s, rel=0.05)
