"""DynamoDB in operation: doctor's table checks, and featurebridge serve on a table."""

from __future__ import annotations

import shutil
import signal
from pathlib import Path
from typing import TYPE_CHECKING

from bridge.stores.dynamodb import DynamoDBStore
from bridge.stores.dynamodb_table import table_definition
from tests.moto_server import AWS_TEST_ENV
from tests.processes import FEATUREBRIDGE, clean_env, free_port, http, start_serve

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

EXAMPLE = Path(__file__).parent.parent / "featurebridge.example.toml"


def test_a_complete_table_has_nothing_to_report(dynamodb_table: str, moto_endpoint: str) -> None:
    assert DynamoDBStore(dynamodb_table, endpoint_url=moto_endpoint).diagnose() == []


def test_a_missing_table_is_reported(moto_endpoint: str) -> None:
    [problem] = DynamoDBStore("no-such-table", endpoint_url=moto_endpoint).diagnose()
    assert "no-such-table" in problem
    assert "template.yaml" in problem


def test_missing_indexes_and_ttl_are_reported(
    dynamodb_client: DynamoDBClient, moto_endpoint: str
) -> None:
    definition = table_definition("bare-table")
    kept = definition["GlobalSecondaryIndexes"][:2]
    used = {part["AttributeName"] for index in kept for part in index["KeySchema"]} | {"pk", "sk"}
    definition["GlobalSecondaryIndexes"] = kept
    definition["AttributeDefinitions"] = [
        a for a in definition["AttributeDefinitions"] if a["AttributeName"] in used
    ]
    dynamodb_client.create_table(**definition)
    try:
        problems = DynamoDBStore("bare-table", endpoint_url=moto_endpoint).diagnose()
    finally:
        dynamodb_client.delete_table(TableName="bare-table")
    assert any("lacks index" in problem and "due" in problem for problem in problems)
    assert any("TTL" in problem for problem in problems)


def test_serve_and_doctor_run_on_dynamodb(
    tmp_path: Path, dynamodb_table: str, moto_endpoint: str
) -> None:
    shutil.copy(EXAMPLE, tmp_path / "featurebridge.toml")
    env = {
        **AWS_TEST_ENV,
        "FEATUREBRIDGE_STORE": f"dynamodb://{dynamodb_table}",
        "AWS_ENDPOINT_URL_DYNAMODB": moto_endpoint,
    }
    port = free_port()
    process = start_serve(tmp_path, port, **env)
    try:
        base = f"http://127.0.0.1:{port}"
        status, health = http("GET", base + "/healthz")
        assert status == 200
        assert health["index"] == {"ok": True}
        status, _ = http("POST", base + "/v1/apps/demo/requests", {"title": "Dark mode"})
        assert status == 202
        status, health = http("GET", base + "/healthz")
        assert health["queue"]["pending_submissions"] == 1
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)
    import subprocess

    doctor = subprocess.run(
        [str(FEATUREBRIDGE), "doctor"],
        cwd=tmp_path,
        env=clean_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert f"[ok ] index: dynamodb://{dynamodb_table} answers" in doctor.stdout
