"""The SQS job queue: where Lambda's HTTP and schedule functions hand work to the worker.

A job travels as a small JSON message, ``{"v": 1, "kind": ..., "payload": {...}}``;
the worker function (``lambda/worker_entry.py``) decodes it with :func:`decode_job`
and runs it with ``bridge.jobs.run_job``. The client is built on first use from
``botocore.session`` (not boto3, whose import pulls in s3transfer), so importing
this module costs nothing on a cold start that never enqueues.

Sending never raises: by the time a job is enqueued its work is already in the
index (the submission outbox), and the scheduled sweep finds anything a queue
lost. A failed send is logged and the request carries on.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Final, cast

from bridge.ports import Job

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

# SQS's own ceiling on DelaySeconds.
MAX_DELAY_SECONDS = 900

log = logging.getLogger(__name__)

MESSAGE_VERSION: Final = 1
# SQS messages may be 256 KiB; jobs carry ids, never content.
MAX_MESSAGE_BYTES: Final = 256 * 1024


class JobFormatError(ValueError):
    """A queue message that is not a job this version understands."""


def encode_job(job: Job) -> str:
    """The message body of a job (compact JSON)."""
    body = json.dumps(
        {"v": MESSAGE_VERSION, "kind": job.kind, "payload": job.payload},
        separators=(",", ":"),
        ensure_ascii=False,
    )
    if len(body.encode()) > MAX_MESSAGE_BYTES:
        raise JobFormatError(f"job {job.kind!r} is larger than an SQS message can carry")
    return body


def decode_job(body: str) -> Job:
    """The job a message body carries; JobFormatError when it carries none."""
    try:
        value = json.loads(body)
    except ValueError as error:
        raise JobFormatError(f"message body is not JSON: {error}") from error
    if not isinstance(value, dict) or value.get("v") != MESSAGE_VERSION:
        raise JobFormatError(f"message is not a version {MESSAGE_VERSION} job")
    kind, payload = value.get("kind"), value.get("payload", {})
    if not isinstance(kind, str) or not kind or not isinstance(payload, dict):
        raise JobFormatError("message needs a string 'kind' and an object 'payload'")
    return Job(kind, payload)


def _default_client() -> SQSClient:
    # botocore alone: boto3's import adds s3transfer (about 0.1 s) for nothing here.
    import botocore.session
    from botocore.config import Config

    config = Config(
        connect_timeout=2,
        read_timeout=5,
        retries={"mode": "standard", "max_attempts": 3},
    )
    return cast("SQSClient", botocore.session.get_session().create_client("sqs", config=config))


class SQSJobQueue:
    """A :class:`bridge.ports.JobQueue` over one SQS queue, named by its URL.

    ``client`` is built on first use unless given (tests pass one pointed at
    moto). ``depth`` asks SQS at most once per ``depth_ttl`` seconds, so a busy
    ``/healthz`` does not turn into a stream of API calls.
    """

    def __init__(
        self,
        queue_url: str,
        *,
        client: SQSClient | None = None,
        client_factory: Callable[[], SQSClient] = _default_client,
        depth_ttl: float = 10.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not queue_url.startswith(("https://", "http://")):
            raise ValueError(f"{queue_url!r} is not an SQS queue URL")
        self.queue_url = queue_url
        self._client = client
        self._client_factory = client_factory
        self._depth_ttl = depth_ttl
        self._monotonic = monotonic
        self._depth: tuple[float, int | None] | None = None
        self._lock = threading.Lock()

    def client(self) -> SQSClient:
        """The SQS client, built once (thread-safe)."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._client_factory()
        return self._client

    def enqueue(self, job: Job, *, delay_seconds: float = 0) -> None:
        """Send the job; log and carry on when SQS refuses (the outbox sweep recovers it).

        SQS delays a message by at most 15 minutes; longer waits end at the sweep.
        """
        body = encode_job(job)
        delay = max(0, min(MAX_DELAY_SECONDS, math.ceil(delay_seconds)))
        try:
            self.client().send_message(
                QueueUrl=self.queue_url, MessageBody=body, DelaySeconds=delay
            )
        except Exception as error:  # any SDK or network failure: the work is in the outbox
            log.warning(
                "could not enqueue %s job (the scheduled sweep will pick it up): %s: %s",
                job.kind,
                type(error).__name__,
                error,
            )

    def depth(self) -> int | None:
        """Messages waiting (visible plus delayed), or None when SQS cannot be asked."""
        now = self._monotonic()
        cached = self._depth
        if cached is not None and now - cached[0] < self._depth_ttl:
            return cached[1]
        depth = self._ask_depth()
        self._depth = (now, depth)
        return depth

    def _ask_depth(self) -> int | None:
        try:
            answer = self.client().get_queue_attributes(
                QueueUrl=self.queue_url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesDelayed",
                ],
            )
        except Exception as error:  # health reporting must never fail the request
            log.warning("could not read the queue depth: %s: %s", type(error).__name__, error)
            return None
        attributes = answer.get("Attributes", {})
        try:
            return int(attributes.get("ApproximateNumberOfMessages", 0)) + int(
                attributes.get("ApproximateNumberOfMessagesDelayed", 0)
            )
        except (TypeError, ValueError):
            return None
