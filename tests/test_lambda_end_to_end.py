"""The Lambda entries built from the environment alone, on real parts: moto's DynamoDB
and SQS over HTTP, and the GitHub double over loopback as a GitHub App."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bridge.timeutil import utcnow
from tests.github_double import GitHubDouble
from tests.lambda_support import (
    Entries,
    FakeContext,
    apigw_event,
    entries,  # noqa: F401
    response_json,
    sqs_event,
)
from tests.moto_server import AWS_TEST_ENV

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

CONFIG = """
[server]
inline_delivery_seconds = 0

[[apps]]
id = "mobile"
name = "Acme Mobile"
repo = "acme/mobile"
labels = ["feature-request", "app:mobile"]
allowed_origins = ["https://app.acme.example"]
public = true
moderation = "none"  # the event is a widget's post without a render token
"""


def test_submission_through_http_sqs_and_worker_to_github_and_dynamodb(
    entries: Entries,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    dynamodb_table: str,
    moto_endpoint: str,
    github_double: GitHubDouble,
) -> None:
    import botocore.session

    sqs: SQSClient = botocore.session.get_session().create_client(
        "sqs", endpoint_url=moto_endpoint, region_name="us-east-1"
    )
    queue_url = sqs.create_queue(QueueName="featurebridge-e2e")["QueueUrl"]
    # The stack's events topic, with one subscriber queue.
    sns = botocore.session.get_session().create_client(
        "sns", endpoint_url=moto_endpoint, region_name="us-east-1"
    )
    topic = sns.create_topic(Name="featurebridge-e2e-events")["TopicArn"]
    subscriber = sqs.create_queue(QueueName="featurebridge-e2e-subscriber")["QueueUrl"]
    subscriber_arn = sqs.get_queue_attributes(QueueUrl=subscriber, AttributeNames=["QueueArn"])
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=subscriber_arn["Attributes"]["QueueArn"])
    github_double.add_installation("acme", repos=["acme/mobile"])
    (tmp_path / "featurebridge.toml").write_text(CONFIG)
    with github_double.serve() as github_url:
        env = {
            **AWS_TEST_ENV,
            "FEATUREBRIDGE_CONFIG": str(tmp_path / "featurebridge.toml"),
            "FEATUREBRIDGE_ENV_FILE": str(tmp_path / "absent.env"),
            "FEATUREBRIDGE_STORE": f"dynamodb://{dynamodb_table}",
            "FEATUREBRIDGE_QUEUE_URL": queue_url,
            "AWS_ENDPOINT_URL_DYNAMODB": moto_endpoint,
            "AWS_ENDPOINT_URL_SQS": moto_endpoint,
            "AWS_ENDPOINT_URL_SNS": moto_endpoint,
            "FEATUREBRIDGE_EVENTS_TOPIC_ARN": topic,
            "GITHUB_API_URL": github_url,
            "GITHUB_APP_ID": str(github_double.app_id),
            "GITHUB_APP_PRIVATE_KEY": github_double.private_key_pem,
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)

        answer = entries.http.handler(apigw_event("submit_json"), FakeContext())
        assert answer["statusCode"] == 202, answer
        submission_id = response_json(answer)["id"]
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
        )
        [message] = messages["Messages"]
        failures = entries.worker.handler(sqs_event(message["Body"]), FakeContext())
        assert failures == {"batchItemFailures": []}

        [issue] = github_double.issues("acme/mobile")
        assert submission_id in issue["body"]
        # The delivery queued request.created's SNS delivery: the worker publishes it.
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
        )
        [message] = messages["Messages"]
        failures = entries.worker.handler(sqs_event(message["Body"]), FakeContext())
        assert failures == {"batchItemFailures": []}
        [published] = sqs.receive_message(QueueUrl=subscriber, WaitTimeSeconds=1)["Messages"]
        envelope = json.loads(published["Body"])
        assert envelope["MessageAttributes"]["event"]["Value"] == "request.created"
        assert envelope["MessageAttributes"]["app"]["Value"] == "mobile"
        assert json.loads(envelope["Message"])["request"]["number"] == issue["number"]
        listed = entries.http.handler(apigw_event("list_requests"), FakeContext())
        assert listed["statusCode"] == 200
        [item] = response_json(listed)["items"]
        assert (item["number"], item["bridge_votes"], item["source"]) == (
            issue["number"],
            1,
            "widget",
        )
        health = response_json(entries.http.handler(apigw_event("healthz"), FakeContext()))
        assert health["index"] == {"ok": True}
        assert health["queue"]["pending_submissions"] == 0
        # The schedule entry finds nothing left to do, and its sync reads the same issue.
        scheduled = entries.schedule.handler(
            {"source": "aws.events", "time": utcnow().isoformat()}, FakeContext()
        )
        assert scheduled is None or isinstance(scheduled, dict)
        assert len(github_double.issues("acme/mobile")) == 1
    sqs.delete_queue(QueueUrl=queue_url)
    sqs.delete_queue(QueueUrl=subscriber)
    sns.delete_topic(TopicArn=topic)
