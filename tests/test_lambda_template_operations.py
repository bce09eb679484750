"""``lambda/template.yaml`` in operation: tracing, alarms, and the optional CDN and firewall."""

from __future__ import annotations

import re
from typing import Any

from bridge.metrics import FUNCTION_DIMENSION, NAMESPACE, OLDEST_PENDING_AGE
from tests.test_lambda_template import resources_of, template  # noqa: F401

NOTIFY_TOPIC = {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ORIGIN_CACHE_HEADERS = "83da9c7e-98b4-4e11-a168-04f0df8e2c65"
ORIGIN_CACHE_HEADERS_QUERY = "4cc15a8a-d715-48a4-82b8-cc0b614638fe"
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
EVERY_METHOD = {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}


def test_every_function_is_traced_by_lambda_itself(template: dict[str, Any]) -> None:  # noqa: F811
    assert template["Globals"]["Function"]["Tracing"] == "Active"
    for name, function in resources_of(template, "AWS::Serverless::Function").items():
        assert function["Properties"].get("Tracing", "Active") == "Active", name


def _watched(alarm: dict[str, Any]) -> set[tuple[str, str, str]]:
    """(namespace, metric, dimension value) of every metric the alarm reads."""
    props = alarm["Properties"]
    stats = [m["MetricStat"]["Metric"] for m in props.get("Metrics", []) if "MetricStat" in m]
    if "MetricName" in props:
        stats.append(props)
    return {
        (stat["Namespace"], stat["MetricName"], str(dimension["Value"]))
        for stat in stats
        for dimension in stat["Dimensions"]
    }


def test_alarms_cover_5xx_worker_errors_dead_letters_and_waiting_submissions(
    template: dict[str, Any],  # noqa: F811
) -> None:
    alarms = resources_of(template, "AWS::CloudWatch::Alarm")
    watched = set().union(*(_watched(alarm) for alarm in alarms.values()))
    api, worker = str({"Ref": "HttpApi"}), str({"Ref": "WorkerFunction"})
    schedule = str({"Ref": "ScheduleFunction"})
    assert ("AWS/ApiGateway", "5xx", api) in watched
    assert ("AWS/ApiGateway", "Count", api) in watched
    assert ("AWS/Lambda", "Errors", worker) in watched
    dead_letters = str({"Fn::GetAtt": ["DeadLetterQueue", "QueueName"]})
    assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible", dead_letters) in watched
    assert (NAMESPACE, OLDEST_PENDING_AGE, schedule) in watched
    for name, alarm in alarms.items():
        assert alarm["Properties"]["AlarmActions"] == NOTIFY_TOPIC, name


def test_the_5xx_alarm_is_a_share_of_requests(template: dict[str, Any]) -> None:  # noqa: F811
    props = template["Resources"]["HttpErrorRateAlarm"]["Properties"]
    [shown] = [m for m in props["Metrics"] if m["ReturnData"]]
    ids = {m["Id"] for m in props["Metrics"] if "MetricStat" in m}
    assert ids == {"errors", "requests"}
    assert re.search(r"100 \* FILL\(errors, 0\) / requests", shown["Expression"])
    assert props["Threshold"] == 5
    assert props["TreatMissingData"] == "notBreaching"


def test_the_pending_alarm_reads_the_schedules_metric(template: dict[str, Any]) -> None:  # noqa: F811
    props = template["Resources"]["OldestPendingAlarm"]["Properties"]
    assert props["Namespace"] == NAMESPACE
    assert props["MetricName"] == OLDEST_PENDING_AGE
    assert props["Dimensions"] == [
        {"Name": FUNCTION_DIMENSION, "Value": {"Ref": "ScheduleFunction"}}
    ]
    assert props["Threshold"] == {"Ref": "PendingAgeAlarmSeconds"}
    # The schedule writes the figure only while something waits: no figure is all clear.
    assert props["TreatMissingData"] == "notBreaching"
    assert props["Period"] >= 60 * template["Parameters"]["SyncIntervalMinutes"]["Default"]


def _behaviours(template: dict[str, Any]) -> dict[str, dict[str, Any]]:  # noqa: F811
    config = template["Resources"]["CdnDistribution"]["Properties"]["DistributionConfig"]
    paths = {b["PathPattern"]: b for b in config["CacheBehaviors"]}
    return {"default": config["DefaultCacheBehavior"], **paths}


def test_the_cdn_is_off_by_default(template: dict[str, Any]) -> None:  # noqa: F811
    assert template["Parameters"]["CdnEnabled"]["Default"] == "false"
    assert template["Conditions"]["HasCdn"] == {"Fn::Equals": [{"Ref": "CdnEnabled"}, "true"]}
    assert template["Resources"]["CdnDistribution"]["Condition"] == "HasCdn"
    assert template["Outputs"]["CdnUrl"]["Condition"] == "HasCdn"


def test_the_cdn_caches_only_the_widget_and_the_pages_by_their_own_headers(
    template: dict[str, Any],  # noqa: F811
) -> None:
    behaviours = _behaviours(template)
    cached = {path for path, b in behaviours.items() if b["CachePolicyId"] != CACHING_DISABLED}
    assert cached == {"/widget.js", "/apps/*"}
    assert behaviours["/widget.js"]["CachePolicyId"] == ORIGIN_CACHE_HEADERS
    assert behaviours["/apps/*"]["CachePolicyId"] == ORIGIN_CACHE_HEADERS_QUERY
    assert behaviours["/v1/*"]["CachePolicyId"] == CACHING_DISABLED
    for path, behaviour in behaviours.items():
        # Every viewer header but Host (API Gateway answers to its own name), every
        # cookie and query string reach the service, on every behaviour.
        assert behaviour["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST, path
        assert behaviour["ViewerProtocolPolicy"] != "allow-all", path
    for path in ("default", "/v1/*", "/apps/*"):
        assert set(behaviours[path]["AllowedMethods"]) == EVERY_METHOD, path


def test_the_cdn_fronts_the_http_api(template: dict[str, Any]) -> None:  # noqa: F811
    config = template["Resources"]["CdnDistribution"]["Properties"]["DistributionConfig"]
    [origin] = config["Origins"]
    assert origin["DomainName"] == {
        "Fn::Sub": "${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"
    }
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert config["WebACLId"] == {
        "Fn::If": ["HasWebAcl", {"Ref": "WebAclArn"}, {"Ref": "AWS::NoValue"}]
    }


def test_the_web_acl_must_be_a_cloudfront_one_from_us_east_1(
    template: dict[str, Any],  # noqa: F811
) -> None:
    parameter = template["Parameters"]["WebAclArn"]
    assert parameter["Default"] == ""
    pattern = re.compile(parameter["AllowedPattern"])
    acl = "feedback/a1b2c3d4-5678-90ab-cdef-1234567890ab"
    ok = f"arn:aws:wafv2:us-east-1:123456789012:global/webacl/{acl}"
    assert pattern.fullmatch(ok)
    assert pattern.fullmatch("")
    for wrong in (
        ok.replace("us-east-1", "eu-west-1"),
        ok.replace("global", "regional"),
        "arn:aws:waf::123456789012:webacl/feedback",
    ):
        assert not pattern.fullmatch(wrong), wrong
