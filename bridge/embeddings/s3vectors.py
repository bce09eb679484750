"""The ``VectorIndex`` on AWS: Amazon S3 Vectors, one vector index for every app.

Each request's vector is keyed ``<app>/<number>`` with the metadata ``app`` (a
filterable key), and every query filters on it, so one app's search never sees
another's requests. The index's distance metric is cosine (the SAM template
creates it), so a distance ``d`` is the similarity ``1 - d``. Querying with a
filter needs ``s3vectors:QueryVectors`` and ``s3vectors:GetVectors``; storing
needs ``s3vectors:PutVectors``. boto3 is imported with the first call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from bridge.embeddings.values import Neighbour
from bridge.ports import VectorStoreError

SCHEME = "s3vectors://"


def parse_url(url: str) -> tuple[str, str]:
    """``s3vectors://BUCKET/INDEX`` as (bucket, index); ValueError when it is not one."""
    bucket, _, index = url.removeprefix(SCHEME).partition("/")
    if not url.startswith(SCHEME) or not bucket or not index or "/" in index:
        raise ValueError(f"{url!r} is not s3vectors://BUCKET/INDEX")
    return bucket, index


def default_client() -> Any:
    """An s3vectors client; region and endpoint follow the standard AWS variables."""
    import boto3
    from botocore.config import Config

    # Searches sit on /similar's path: fail fast, the search stays lexical.
    config = Config(retries={"total_max_attempts": 2}, read_timeout=5, connect_timeout=3)
    return boto3.client("s3vectors", config=config)


class S3Vectors:
    """Vectors in the S3 Vectors index ``index`` of the vector bucket ``bucket``."""

    def __init__(
        self, bucket: str, index: str, client_factory: Callable[[], Any] = default_client
    ) -> None:
        self.bucket = bucket
        self.index = index
        self._factory = client_factory
        self._client: Any = None

    @property
    def client(self) -> Any:
        """The s3vectors client, built once."""
        if self._client is None:
            self._client = self._factory()
        return self._client

    @contextmanager
    def _errors(self, operation: str) -> Iterator[None]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "unknown error")
            raise VectorStoreError(f"S3 Vectors {operation} failed: {code}") from error
        except BotoCoreError as error:
            raise VectorStoreError(f"S3 Vectors {operation} failed: {error}") from error

    def put(self, app: str, number: int, vector: Sequence[float]) -> None:
        """PutVectors: replaces the request's vector if it had one."""
        with self._errors("PutVectors"):
            self.client.put_vectors(
                vectorBucketName=self.bucket,
                indexName=self.index,
                vectors=[
                    {
                        "key": f"{app}/{number}",
                        "data": {"float32": [float(x) for x in vector]},
                        "metadata": {"app": app},
                    }
                ],
            )

    def nearest(self, app: str, vector: Sequence[float], *, limit: int) -> list[Neighbour]:
        """QueryVectors filtered to the app; nearest first."""
        if limit < 1:
            return []
        with self._errors("QueryVectors"):
            answer = self.client.query_vectors(
                vectorBucketName=self.bucket,
                indexName=self.index,
                topK=limit,
                queryVector={"float32": [float(x) for x in vector]},
                filter={"app": {"$eq": app}},
                returnDistance=True,
            )
        found: list[Neighbour] = []
        prefix = f"{app}/"
        for item in answer.get("vectors", []):
            number = str(item.get("key", "")).removeprefix(prefix)
            if str(item.get("key", "")).startswith(prefix) and number.isdigit():
                found.append(Neighbour(int(number), 1.0 - float(item.get("distance", 1.0))))
        return found

    def problem(self, dimensions: int) -> str | None:
        """GetIndex: a missing index, or one of another dimension or metric, is a problem."""
        try:
            with self._errors("GetIndex"):
                index = self.client.get_index(vectorBucketName=self.bucket, indexName=self.index)
        except VectorStoreError as error:
            return str(error)
        details = index.get("index", {})
        if details.get("dimension") != dimensions:
            return (
                f"the S3 Vectors index {self.index} holds vectors of {details.get('dimension')}"
                f" dimensions, not embedding_dimensions = {dimensions}: an index's dimension is"
                " fixed, so create a new index (the stack's EmbeddingDimensions parameter) and"
                " run featurebridge reindex"
            )
        if details.get("distanceMetric") != "cosine":
            return f"the S3 Vectors index {self.index} must use the cosine distance metric"
        return None
