"""The SNS adapter: every domain event on the stack's topic, with ``app`` and ``event``
message attributes for subscription filters.

The client comes from ``botocore.session`` on first use (boto3's import pulls
in s3transfer); the endpoint follows the standard AWS variables
(``AWS_ENDPOINT_URL_SNS``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from bridge.notify.model import DeliveryError

# botocore's SNS client (no stubs are installed for it).
SNSClient = Any


def _default_client() -> SNSClient:
    import botocore.session
    from botocore.config import Config

    config = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard"})
    return botocore.session.get_session().create_client("sns", config=config)


class SNSPublisher:
    """A :class:`bridge.notify.model.EventPublisher` over one SNS topic."""

    def __init__(
        self,
        topic_arn: str,
        *,
        client: SNSClient | None = None,
        client_factory: Callable[[], SNSClient] = _default_client,
    ) -> None:
        self.topic_arn = topic_arn
        self._client = client
        self._client_factory = client_factory
        self._lock = threading.Lock()

    def _sns(self) -> SNSClient:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._client_factory()
        return self._client

    def publish(self, *, app: str, event: str, body: str) -> None:
        """Publish the event's JSON; DeliveryError when SNS does not take it."""
        try:
            self._sns().publish(
                TopicArn=self.topic_arn,
                Message=body,
                MessageAttributes={
                    "app": {"DataType": "String", "StringValue": app},
                    "event": {"DataType": "String", "StringValue": event},
                },
            )
        except Exception as error:  # any SDK or network failure: the delivery retries
            raise DeliveryError(f"SNS: {type(error).__name__}: {str(error)[:200]}") from None
