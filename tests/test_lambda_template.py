"""``lambda/template.yaml``: cfn-lint clean, and in step with the code it deploys."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from bridge.secrets import SSM_SUFFIX
from bridge.stores.dynamodb_table import TTL_ATTRIBUTE, table_definition
from tests.cfn_template import TEMPLATE, load_template, resources_of
from tests.lambda_support import LAMBDA_DIR


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(TEMPLATE)


def test_cfn_lint_passes() -> None:
    # Info-level findings included: the template is clean at every level.
    from cfnlint.api import ManualArgs, lint_file

    matches = lint_file(TEMPLATE, config=ManualArgs(include_checks=["I"]))
    assert [str(match) for match in matches] == []


def test_functions_run_the_entries_on_python311_arm64(template: dict[str, Any]) -> None:
    functions = resources_of(template, "AWS::Serverless::Function")
    globals_ = template["Globals"]["Function"]
    assert globals_["Runtime"] == "python3.11"
    assert globals_["Architectures"] == ["arm64"]
    handlers = {name: f["Properties"]["Handler"] for name, f in functions.items()}
    assert handlers == {
        "HttpFunction": "http_entry.handler",
        "WorkerFunction": "worker_entry.handler",
        "ScheduleFunction": "schedule_entry.handler",
    }
    for handler in handlers.values():
        module, function = handler.split(".")
        path = LAMBDA_DIR / f"{module}.py"
        assert path.exists(), handler
        assert f"\ndef {function}(" in path.read_text("utf-8"), handler
        # A module named like the standard library (http, queue, ...) would shadow it.
        assert module not in sys.stdlib_module_names
    for function in functions.values():
        assert 128 <= function["Properties"]["MemorySize"] <= 3008


def test_entry_modules_do_not_shadow_the_standard_library() -> None:
    for path in LAMBDA_DIR.glob("*.py"):
        assert path.stem not in sys.stdlib_module_names, path.name


def test_http_api_leaves_cors_to_the_service(template: dict[str, Any]) -> None:
    [api] = resources_of(template, "AWS::Serverless::HttpApi").values()
    assert "CorsConfiguration" not in api["Properties"]
    routes = api["Properties"]["DefaultRouteSettings"]
    assert {"ThrottlingRateLimit", "ThrottlingBurstLimit"} <= set(routes)
    event = template["Resources"]["HttpFunction"]["Properties"]["Events"]["Everything"]
    assert event["Type"] == "HttpApi"
    assert "Path" not in event["Properties"]  # the $default route: every path reaches Flask


def test_environment_names_the_store_queue_and_secrets(template: dict[str, Any]) -> None:
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["FEATUREBRIDGE_STORE"] == {"Fn::Sub": "dynamodb://${IndexTable}"}
    assert variables["FEATUREBRIDGE_QUEUE_URL"] == {"Ref": "JobQueue"}
    assert variables["FEATUREBRIDGE_CONFIG"] == "/var/task/featurebridge.toml"
    for secret in ("GITHUB_APP_PRIVATE_KEY", "GITHUB_WEBHOOK_SECRET", "FEATUREBRIDGE_ADMIN_TOKEN"):
        assert secret + SSM_SUFFIX in variables
        assert secret not in variables  # never the value itself


def test_table_matches_the_stores_definition(template: dict[str, Any]) -> None:
    table = template["Resources"]["IndexTable"]
    assert table["DeletionPolicy"] == "Retain"
    props = table["Properties"]
    expected = table_definition("ignored")
    assert props["BillingMode"] == expected["BillingMode"] == "PAY_PER_REQUEST"
    assert props["KeySchema"] == expected["KeySchema"]
    assert sorted(props["AttributeDefinitions"], key=str) == sorted(
        expected["AttributeDefinitions"], key=str
    )
    ours = {index["IndexName"]: index for index in props["GlobalSecondaryIndexes"]}
    theirs = {index["IndexName"]: index for index in expected["GlobalSecondaryIndexes"]}
    assert ours == theirs
    assert props["TimeToLiveSpecification"] == {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"] == {"SSEEnabled": True}


def test_queue_has_a_dead_letter_queue_an_alarm_and_partial_failures(
    template: dict[str, Any],
) -> None:
    resources = template["Resources"]
    queue = resources["JobQueue"]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": ["DeadLetterQueue", "Arn"]
    }
    assert 1 < queue["RedrivePolicy"]["maxReceiveCount"] <= 10
    worker_timeout = resources["WorkerFunction"]["Properties"]["Timeout"]
    mapping = resources["WorkerQueueMapping"]["Properties"]
    window = mapping.get("MaximumBatchingWindowInSeconds", 0)
    assert queue["VisibilityTimeout"] >= 6 * worker_timeout + window
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["FunctionName"] == {"Ref": "WorkerFunction"}
    assert _alarmed_queues(template) >= {"DeadLetterQueue"}


def _alarmed_queues(template: dict[str, Any]) -> set[str]:
    return {
        dimension["Value"]["Fn::GetAtt"][0]
        for alarm in resources_of(template, "AWS::CloudWatch::Alarm").values()
        for dimension in alarm["Properties"].get("Dimensions", [])
        if dimension["Name"] == "QueueName"
    }


def test_every_asynchronous_failure_lands_in_an_alarmed_queue(template: dict[str, Any]) -> None:
    # EventBridge invokes the schedule asynchronously: without a dead-letter queue
    # a run that fails every time would fail unnoticed.
    schedule = template["Resources"]["ScheduleFunction"]["Properties"]
    # It shares the jobs' dead-letter queue and its alarm (one billed alarm metric).
    assert schedule["DeadLetterQueue"] == {
        "Type": "SQS",
        "TargetArn": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]},
    }
    assert _alarmed_queues(template) == {"DeadLetterQueue"}


def test_http_reserved_concurrency_is_a_parameter_unset_by_default(
    template: dict[str, Any],
) -> None:
    # Accounts on a low concurrency quota cannot reserve any: the default reserves none.
    assert template["Parameters"]["HttpReservedConcurrency"]["Default"] == ""
    assert template["Resources"]["HttpFunction"]["Properties"]["ReservedConcurrentExecutions"] == {
        "Fn::If": [
            "HasHttpConcurrency",
            {"Ref": "HttpReservedConcurrency"},
            {"Ref": "AWS::NoValue"},
        ]
    }


def test_http_api_access_log_holds_no_headers_or_query_strings(template: dict[str, Any]) -> None:
    settings = template["Resources"]["HttpApi"]["Properties"]["AccessLogSettings"]
    assert settings["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    fields = json.loads(settings["Format"])
    assert {"requestId", "status", "path", "latencyMs"} <= fields.keys()
    # Tokens and signatures travel in headers and query strings: none is logged.
    assert not [v for v in fields.values() if "header" in v.lower() or "querystring" in v.lower()]
    log_groups = resources_of(template, "AWS::Logs::LogGroup").values()
    assert all(group["Properties"]["RetentionInDays"] for group in log_groups)


def test_every_checkov_skip_names_its_check_and_gives_a_reason() -> None:
    skips = re.findall(r"#\s*checkov:skip=(.*)", TEMPLATE.read_text("utf-8"))
    assert skips
    for skip in skips:
        check, _, reason = skip.partition(":")
        assert re.fullmatch(r"CKV2?_AWS_\d+", check), skip
        assert len(reason.split()) >= 8, f"{check} needs the reason beside it: {skip}"


def test_schedule_rate_comes_from_a_parameter(template: dict[str, Any]) -> None:
    assert template["Parameters"]["SyncIntervalMinutes"]["Default"] == 15
    event = template["Resources"]["ScheduleFunction"]["Properties"]["Events"]["Every"]
    assert event["Type"] == "Schedule"
    assert event["Properties"]["Schedule"] == {"Fn::Sub": "rate(${SyncIntervalMinutes} minutes)"}


def test_policies_name_their_resources(template: dict[str, Any]) -> None:
    policy = template["Resources"]["SecretsReadPolicy"]["Properties"]["PolicyDocument"]
    for statement in policy["Statement"]:
        assert statement["Resource"] != "*"
    for function in resources_of(template, "AWS::Serverless::Function").values():
        for entry in function["Properties"]["Policies"]:
            for statement in entry.get("Statement", []) if isinstance(entry, dict) else []:
                assert statement["Resource"] != "*"


def test_outputs_name_the_api_and_the_webhook_route(template: dict[str, Any], app: Any) -> None:
    outputs = template["Outputs"]
    assert outputs["ApiUrl"]["Value"]["Fn::Sub"].startswith("https://${HttpApi}.execute-api.")
    webhook = outputs["WebhookUrl"]["Value"]["Fn::Sub"]
    route = webhook.removeprefix(outputs["ApiUrl"]["Value"]["Fn::Sub"])
    assert route == "/github/webhooks"
    assert route in {rule.rule for rule in app.url_map.iter_rules()}


def test_code_uri_is_what_the_build_script_writes(template: dict[str, Any]) -> None:
    code = (LAMBDA_DIR / template["Globals"]["Function"]["CodeUri"]).resolve()
    assert code == Path(__file__).resolve().parent.parent / "build" / "lambda.zip"


def _evaluate(node: Any, params: dict[str, str], conditions: dict[str, Any]) -> Any:
    """The few intrinsics the policies and the environment use, resolved for ``params``."""
    if isinstance(node, list):
        return [
            v for v in (_evaluate(item, params, conditions) for item in node) if v != "AWS::NoValue"
        ]
    if not isinstance(node, dict):
        return node
    if len(node) != 1 or not next(iter(node)).startswith(("Fn::", "Ref", "Condition")):
        return {k: _evaluate(v, params, conditions) for k, v in node.items()}
    [(name, value)] = node.items()
    if name == "Ref":
        return params.get(value, value)
    if name in {"Condition", "Fn::Condition"}:
        return _evaluate(conditions[value], params, conditions)
    if name == "Fn::Sub":
        text, local = (value, {}) if isinstance(value, str) else value
        bound = {**params, **{k: _evaluate(v, params, conditions) for k, v in local.items()}}
        for key, replacement in bound.items():
            text = text.replace("${" + key + "}", replacement)
        return text
    if name == "Fn::GetAtt":
        return params[".".join(value)]
    if name == "Fn::If":
        chosen = value[1] if _evaluate(conditions[value[0]], params, conditions) else value[2]
        return _evaluate(chosen, params, conditions)
    args = [_evaluate(v, params, conditions) for v in value]
    if name == "Fn::Split":
        return args[1].split(args[0])
    if name == "Fn::Select":
        return args[1][int(args[0])]
    operators = {"Fn::Equals": lambda a: a[0] == a[1], "Fn::Or": any, "Fn::And": all}
    if name == "Fn::Not":
        return not args[0]
    return operators[name](args)


@pytest.mark.parametrize(
    ("model_id", "expected"),
    [
        ("", None),
        (
            "amazon.nova-micro-v1:0",
            ["arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0"],
        ),
        (
            "us.amazon.nova-micro-v1:0",
            [
                "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-micro-v1:0",
                "arn:aws:bedrock:*::foundation-model/* through that profile only",
            ],
        ),
    ],
)
def test_the_worker_may_invoke_exactly_the_configured_model(
    template: dict[str, Any], model_id: str, expected: list[str] | None
) -> None:
    params = {
        "AnalysisModelId": model_id,
        "AWS::Partition": "aws",
        "AWS::Region": "us-east-1",
        "AWS::AccountId": "123456789012",
        "AWS::NoValue": "AWS::NoValue",
    }
    conditions = template["Conditions"]
    resources = template["Resources"]
    chosen = [
        _evaluate(entry, params, conditions)
        for entry in resources["WorkerFunction"]["Properties"]["Policies"]
        if isinstance(entry, dict) and "Fn::If" in entry and "Analysis" in str(entry)
    ]
    worker = [entry for entry in chosen if entry != "AWS::NoValue"]
    http = resources["HttpFunction"]["Properties"]["Policies"]
    assert "AnalysisInvokePolicy" not in str(http)
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert env["FEATUREBRIDGE_ANALYSIS_MODEL_ID"] == {"Ref": "AnalysisModelId"}
    policy = resources["AnalysisInvokePolicy"]
    if expected is None:
        assert not _evaluate(conditions[policy["Condition"]], params, conditions)
        assert worker == []
        return
    assert worker == ["AnalysisInvokePolicy"]
    statements = _evaluate(policy["Properties"]["PolicyDocument"]["Statement"], params, conditions)
    assert all(s["Action"] == "bedrock:InvokeModel" for s in statements)
    described = [
        s["Resource"] + (" through that profile only" if s.get("Condition") else "")
        for s in statements
    ]
    assert described == expected
    for statement in statements:
        if "Condition" in statement:
            arn = statement["Condition"]["StringEquals"]["bedrock:InferenceProfileArn"]
            assert arn == expected[0]


def test_the_events_topic_is_encrypted_and_only_the_worker_publishes(
    template: dict[str, Any],
) -> None:
    topics = resources_of(template, "AWS::SNS::Topic")
    assert set(topics) == {"EventsTopic", "EmailFeedbackTopic"}
    topic_name = "EventsTopic"
    topic = template["Resources"][topic_name]
    assert topic["Properties"]["KmsMasterKeyId"] == "alias/aws/sns"
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["FEATUREBRIDGE_EVENTS_TOPIC_ARN"] == {"Ref": topic_name}
    functions = resources_of(template, "AWS::Serverless::Function")
    publishers = [
        name
        for name, function in functions.items()
        if {"Ref": "EventsPublishPolicy"} in function["Properties"]["Policies"]
    ]
    assert publishers == ["WorkerFunction"]
    policy = template["Resources"]["EventsTopicPolicy"]
    deny = policy["Properties"]["PolicyDocument"]["Statement"][0]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"]["ArnNotEquals"]["aws:PrincipalArn"] == {
        "Fn::GetAtt": ["WorkerFunctionRole", "Arn"]
    }
    assert template["Outputs"]["EventsTopicArn"]["Value"] == {"Ref": topic_name}


INDEX_ARN = "arn:aws:s3vectors:us-east-1:123456789012:bucket/fb-vectors-1a2b/index/requests-256"


@pytest.mark.parametrize("model_id", ["", "amazon.titan-embed-text-v2:0"])
def test_embeddings_get_a_vector_index_and_exactly_the_grants_they_use(
    template: dict[str, Any], model_id: str
) -> None:
    from bridge.embeddings.s3vectors import parse_url

    params = {
        "EmbeddingModelId": model_id,
        "EmbeddingDimensions": "256",
        "VectorIndex.IndexArn": INDEX_ARN,
        "AWS::Partition": "aws",
        "AWS::Region": "us-east-1",
        "AWS::AccountId": "123456789012",
        "AWS::NoValue": "AWS::NoValue",
    }
    conditions = template["Conditions"]
    resources = template["Resources"]

    def chosen(function: str) -> list[Any]:
        policies = resources[function]["Properties"]["Policies"]
        picked = [
            _evaluate(entry, params, conditions)
            for entry in policies
            if isinstance(entry, dict) and "Fn::If" in entry and "Embedding" in str(entry)
        ]
        return [entry for entry in picked if entry != "AWS::NoValue"]

    env = template["Globals"]["Function"]["Environment"]["Variables"]
    vectors = _evaluate(env["FEATUREBRIDGE_VECTORS"], params, conditions)
    index = resources["VectorIndex"]
    assert index["Properties"]["DistanceMetric"] == "cosine"
    assert index["Properties"]["Dimension"] == {"Ref": "EmbeddingDimensions"}
    assert index["Properties"]["IndexName"] == {"Fn::Sub": "requests-${EmbeddingDimensions}"}
    assert env["FEATUREBRIDGE_EMBEDDING_MODEL_ID"] == {"Ref": "EmbeddingModelId"}
    assert env["FEATUREBRIDGE_EMBEDDING_DIMENSIONS"] == {"Ref": "EmbeddingDimensions"}
    if not model_id:
        assert vectors == ""
        assert chosen("HttpFunction") == chosen("WorkerFunction") == []
        for name in ("VectorBucket", "VectorIndex", "EmbeddingSearchPolicy"):
            assert not _evaluate(conditions[resources[name]["Condition"]], params, conditions)
        return
    assert parse_url(vectors) == ("fb-vectors-1a2b", "requests-256")
    assert chosen("HttpFunction") == ["EmbeddingSearchPolicy"]
    assert chosen("WorkerFunction") == ["EmbeddingSearchPolicy", "EmbeddingWritePolicy"]
    grants = {
        name: [
            (s["Action"], s["Resource"])
            for s in _evaluate(
                resources[name]["Properties"]["PolicyDocument"]["Statement"], params, conditions
            )
        ]
        for name in ("EmbeddingSearchPolicy", "EmbeddingWritePolicy")
    }
    assert grants == {
        "EmbeddingSearchPolicy": [
            (
                "bedrock:InvokeModel",
                "arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-embed-text-v2:0",
            ),
            (["s3vectors:QueryVectors", "s3vectors:GetVectors"], INDEX_ARN),
        ],
        "EmbeddingWritePolicy": [("s3vectors:PutVectors", INDEX_ARN)],
    }


def test_email_sends_through_the_stacks_configuration_set_and_feedback_reaches_the_worker(
    template: dict[str, Any],
) -> None:
    resources = template["Resources"]
    email = [name for name, r in resources.items() if r.get("Condition") == "HasEmail"]
    assert set(email) == {
        "EmailConfigurationSet",
        "EmailFeedbackDestination",
        "EmailFeedbackKey",
        "EmailFeedbackTopic",
        "EmailFeedbackTopicPolicy",
        "EmailFeedbackSubscription",
        "JobQueueFeedbackPolicy",
        "EmailSendPolicy",
    }
    assert template["Parameters"]["EmailSender"]["Default"] == ""
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["FEATUREBRIDGE_EMAIL_SENDER"] == {"Ref": "EmailSender"}
    assert variables["FEATUREBRIDGE_EMAIL_CONFIGURATION_SET"] == {
        "Fn::If": ["HasEmail", {"Ref": "EmailConfigurationSet"}, ""]
    }
    destination = resources["EmailFeedbackDestination"]["Properties"]["EventDestination"]
    assert sorted(destination["MatchingEventTypes"]) == ["bounce", "complaint"]
    assert destination["SnsDestination"]["TopicARN"] == {"Ref": "EmailFeedbackTopic"}
    topic = resources["EmailFeedbackTopic"]["Properties"]
    assert topic["KmsMasterKeyId"] == {"Ref": "EmailFeedbackKey"}
    assert resources["EmailFeedbackKey"]["Properties"]["EnableKeyRotation"] is True
    subscription = resources["EmailFeedbackSubscription"]["Properties"]
    # Raw: the queue's message is SES's event, which the worker tells from its jobs.
    assert subscription == {
        "TopicArn": {"Ref": "EmailFeedbackTopic"},
        "Protocol": "sqs",
        "Endpoint": {"Fn::GetAtt": ["JobQueue", "Arn"]},
        "RawMessageDelivery": True,
    }
    senders = [
        name
        for name, function in resources_of(template, "AWS::Serverless::Function").items()
        if {"Fn::If": ["HasEmail", {"Ref": "EmailSendPolicy"}, {"Ref": "AWS::NoValue"}]}
        in function["Properties"]["Policies"]
    ]
    assert senders == ["WorkerFunction"]
    (grant,) = resources["EmailSendPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert grant["Action"] == "ses:SendEmail"
