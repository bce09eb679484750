"""Lambda entry for the job queue: ``worker_entry.handler`` (SQS, partial batch responses).

Each message is one job (``bridge.queues_sqs.encode_job``) run by
``bridge.jobs.run_job``, the same function the ``serve`` worker thread runs:
delivery jobs now; tally writes, analysis and notifications as they arrive.
SES's bounce and complaint feedback reaches the same queue from its SNS topic
(raw delivery) and runs as an ``email_feedback`` job. A failed scheduled run
shares the jobs' dead-letter queue; redriven here, its EventBridge event is
passed over, since the schedule's next run repeats the work.

A job that raises, a message that is not a job, or one left over when the
invocation is about to time out is reported in ``batchItemFailures``, so SQS
redelivers only those messages (after the visibility timeout) and moves a
message that keeps failing to the dead-letter queue. The event source mapping
must enable ``ReportBatchItemFailures`` (``lambda/template.yaml`` does).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from entry_common import out_of_time, runtime

log = logging.getLogger("featurebridge.lambda.worker")

# Stop starting jobs this close to the timeout: a delivery makes a few GitHub
# calls with their own timeouts, and an unfinished job is simply redelivered.
STOP_MARGIN_SECONDS = 15.0


def failed_run(body: str) -> bool:
    """Whether a message is a scheduled run's EventBridge event (a failed run's dead letter)."""
    if '"aws.events"' not in body:
        return False
    try:
        event = json.loads(body)
    except ValueError:
        return False
    return (
        isinstance(event, dict)
        and event.get("source") == "aws.events"
        and event.get("detail-type") == "Scheduled Event"
    )


def handler(event: dict[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
    """Run each SQS record's job; return the message ids of those that failed."""
    from bridge.jobs import run_job
    from bridge.logs import context as log_context
    from bridge.notify.email.feedback import feedback_job
    from bridge.queues_sqs import decode_job

    rt = runtime()
    records: list[dict[str, Any]] = list(event.get("Records", []))
    failures: list[dict[str, str]] = []
    for index, record in enumerate(records):
        message_id = str(record.get("messageId", ""))
        if out_of_time(context, margin_seconds=STOP_MARGIN_SECONDS):
            left = [str(later.get("messageId", "")) for later in records[index:]]
            log.warning("near the timeout: %d message(s) left for redelivery", len(left))
            failures.extend({"itemIdentifier": left_id} for left_id in left)
            break
        try:
            with log_context(
                lambda_request_id=getattr(context, "aws_request_id", None), message_id=message_id
            ):
                body = str(record.get("body", ""))
                if failed_run(body):
                    log.info("message %s is a failed scheduled run: passed over", message_id)
                    continue
                job = feedback_job(body) or decode_job(body)
                run_job(rt, job)
        except Exception:
            # The message comes back after its visibility timeout, and goes to
            # the dead-letter queue after the queue's maxReceiveCount.
            log.exception(
                "job in message %s failed (receive count %s)",
                message_id,
                record.get("attributes", {}).get("ApproximateReceiveCount", "?"),
            )
            failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}
