"""The S3 Vectors adapter on a real s3vectors client under botocore's Stubber.

(moto answers ``query_vectors`` with 404, so the Stubber checks each request
against the service model instead.)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import Stubber

from bridge.embeddings.s3vectors import S3Vectors, parse_url
from bridge.embeddings.values import Neighbour
from bridge.ports import VectorStoreError
from tests.embedding_stub import s3vectors_client


@pytest.fixture
def stubbed() -> Iterator[tuple[S3Vectors, Stubber]]:
    client = s3vectors_client()
    with Stubber(client) as stubber:
        yield S3Vectors("featurebridge-vectors", "requests", lambda: client), stubber
        stubber.assert_no_pending_responses()


def test_a_vector_is_put_under_its_app_and_number(stubbed: tuple[S3Vectors, Stubber]) -> None:
    index, stubber = stubbed
    stubber.add_response(
        "put_vectors",
        {},
        {
            "vectorBucketName": "featurebridge-vectors",
            "indexName": "requests",
            "vectors": [
                {"key": "mobile/7", "data": {"float32": [0.6, 0.8]}, "metadata": {"app": "mobile"}}
            ],
        },
    )
    index.put("mobile", 7, [0.6, 0.8])


def test_a_query_is_filtered_to_the_app_and_distances_become_similarities(
    stubbed: tuple[S3Vectors, Stubber],
) -> None:
    index, stubber = stubbed
    answer: dict[str, Any] = {
        "distanceMetric": "cosine",
        "vectors": [
            {"key": "mobile/3", "distance": 0.25},
            {"key": "mobile/9", "distance": 0.5},
            {"key": "web/4", "distance": 0.1},  # never trusted to be this app's
            {"key": "mobile/x", "distance": 0.1},
        ],
    }
    stubber.add_response(
        "query_vectors",
        answer,
        {
            "vectorBucketName": "featurebridge-vectors",
            "indexName": "requests",
            "topK": 20,
            "queryVector": {"float32": [0.6, 0.8]},
            "filter": {"app": {"$eq": "mobile"}},
            "returnDistance": True,
        },
    )
    assert index.nearest("mobile", [0.6, 0.8], limit=20) == [
        Neighbour(3, 0.75),
        Neighbour(9, 0.5),
    ]


def test_errors_become_vector_store_errors(stubbed: tuple[S3Vectors, Stubber]) -> None:
    index, stubber = stubbed
    stubber.add_client_error("query_vectors", "AccessDeniedException", http_status_code=403)
    stubber.add_client_error("put_vectors", "ServiceUnavailableException", http_status_code=503)
    with pytest.raises(VectorStoreError, match="QueryVectors failed: AccessDeniedException"):
        index.nearest("mobile", [0.6, 0.8], limit=5)
    with pytest.raises(VectorStoreError, match="PutVectors failed"):
        index.put("mobile", 1, [0.6, 0.8])


def _index(dimension: int, metric: str = "cosine") -> dict[str, Any]:
    return {
        "index": {
            "vectorBucketName": "featurebridge-vectors",
            "indexName": "requests",
            "indexArn": (
                "arn:aws:s3vectors:us-east-1:123456789012"
                ":bucket/featurebridge-vectors/index/requests"
            ),
            "creationTime": "2026-01-01T00:00:00Z",
            "dataType": "float32",
            "dimension": dimension,
            "distanceMetric": metric,
        }
    }


def test_an_index_of_another_dimension_needs_a_new_index(
    stubbed: tuple[S3Vectors, Stubber],
) -> None:
    index, stubber = stubbed
    params = {"vectorBucketName": "featurebridge-vectors", "indexName": "requests"}
    stubber.add_response("get_index", _index(256), params)
    stubber.add_response("get_index", _index(512), params)
    stubber.add_response("get_index", _index(256, "euclidean"), params)
    stubber.add_client_error("get_index", "NotFoundException", http_status_code=404)
    assert index.problem(256) is None
    problem = index.problem(256)
    assert problem is not None
    assert "512 dimensions" in problem
    assert "create a new index" in problem
    assert "cosine" in str(index.problem(256))
    assert "NotFoundException" in str(index.problem(256))


@pytest.mark.parametrize(
    "url", ["s3vectors://bucket", "s3vectors:///index", "s3://bucket/index", "s3vectors://b/i/x"]
)
def test_urls_name_a_bucket_and_an_index(url: str) -> None:
    assert parse_url("s3vectors://featurebridge-vectors/requests") == (
        "featurebridge-vectors",
        "requests",
    )
    with pytest.raises(ValueError, match="BUCKET/INDEX"):
        parse_url(url)
