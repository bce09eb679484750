"""moto's DynamoDB server on loopback, for adapter tests and the store benchmark.

Its fixtures are registered as a pytest plugin in ``tests/conftest.py``.
``moto_endpoint`` starts one server per test session on a free port;
``dynamodb_table`` gives every test its own fresh table (about 10 ms to
create on moto) and deletes it afterwards, so tests never see each other's
items and moto never holds a big table (its queries slow down as tables grow).
"""

from __future__ import annotations

import itertools
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import pytest

from bridge.stores.dynamodb_table import create_table

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Dummy credentials: nothing here may reach AWS, and a client without them
# would probe the EC2 metadata service.
AWS_TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}

_table_numbers = itertools.count(1)


@contextmanager
def aws_test_env() -> Iterator[None]:
    """Dummy AWS credentials and region for the duration, restoring what was there."""
    saved = {name: os.environ.get(name) for name in AWS_TEST_ENV}
    os.environ.update(AWS_TEST_ENV)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def running_moto() -> Iterator[str]:
    """Start moto's server on 127.0.0.1 with a free port; yield its endpoint URL."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one INFO line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def make_client(endpoint_url: str) -> DynamoDBClient:
    """A DynamoDB client for the moto server (dummy credentials must be set)."""
    import botocore.session

    client: DynamoDBClient = botocore.session.get_session().create_client(
        "dynamodb", endpoint_url=endpoint_url, region_name="us-east-1"
    )
    return client


def fresh_table(client: DynamoDBClient, prefix: str = "featurebridge-test") -> str:
    """Create a new, empty index table and return its name."""
    name = f"{prefix}-{next(_table_numbers)}"
    create_table(client, name)
    return name


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """The endpoint URL of a moto server shared by the whole session."""
    with aws_test_env(), running_moto() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def dynamodb_client(moto_endpoint: str) -> DynamoDBClient:
    """One client for the session's moto server."""
    return make_client(moto_endpoint)


@pytest.fixture
def dynamodb_table(dynamodb_client: DynamoDBClient) -> Iterator[str]:
    """A fresh index table for one test, deleted afterwards."""
    name = fresh_table(dynamodb_client)
    yield name
    dynamodb_client.delete_table(TableName=name)
