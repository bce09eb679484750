"""Embedding requests and drafts, within the analysis's daily token budget.

A request is embedded as a job after delivery and when its title or
description changes on GitHub (never on a submitter's request path); transient
Bedrock errors back off like the analysis's. A draft typed into ``/similar`` is
embedded on the spot; when that cannot be done (over budget, Bedrock busy) the
search stays lexical.
"""

from __future__ import annotations

import logging
import math
from typing import Literal

from bridge.analysis.budget import CHARS_PER_TOKEN, DailyBudget, next_day
from bridge.embeddings.queueing import embed_job
from bridge.embeddings.values import Embedding
from bridge.ports import (
    Embedder,
    EmbeddingRefusedError,
    EmbeddingUnavailableError,
    VectorStoreError,
)
from bridge.retry import retry_delay
from bridge.runtime import Runtime
from bridge.similar.terms import DESCRIPTION_SCAN

log = logging.getLogger(__name__)

# Transient errors are retried with backoff this many times, as the analysis's are.
MAX_ATTEMPTS = 8

Result = Literal["off", "missing", "waiting", "retrying", "embedded", "failed"]


def embedding_text(title: str, description: str) -> str:
    """What is embedded: the title, then the start of the description that is searched."""
    return f"{title.strip()}\n\n{description[:DESCRIPTION_SCAN].strip()}".strip()


def worst_case_tokens(text: str) -> int:
    """The most embedding ``text`` can cost (the reservation taken from the budget)."""
    return math.ceil(len(text) / CHARS_PER_TOKEN) + 1


def embed_within_budget(runtime: Runtime, embedder: Embedder, text: str) -> Embedding | None:
    """Embed ``text`` if today's budget allows it (None when it does not); Bedrock's
    errors propagate after the budget is settled."""
    budget = DailyBudget(runtime.store, runtime.settings.analysis.daily_token_budget)
    now = runtime.clock()
    reserved = worst_case_tokens(text)
    if not budget.reserve(reserved, now):
        return None
    spent = 0
    try:
        embedding = embedder.embed(text)
        spent = embedding.tokens
        return embedding
    finally:
        budget.settle(reserved, spent, now)


def embed_request(runtime: Runtime, app_id: str, number: int, *, attempts: int = 0) -> Result:
    """Embed one request and keep its vector; re-queues itself when it must wait."""
    embedder, vectors = runtime.embedder, runtime.vectors
    if embedder is None or vectors is None or runtime.settings.app(app_id) is None:
        return "off"
    request = runtime.store.get_request(app_id, number)
    description = runtime.store.description(app_id, number)
    if request is None or description is None:
        return "missing"
    try:
        text = embedding_text(request.title, description)
        embedding = embed_within_budget(runtime, embedder, text)
        if embedding is None:
            now = runtime.clock()
            wait = (next_day(now) - now).total_seconds() + 1
            log.info("embedding of %s#%d waits %.0f s for the budget", app_id, number, wait)
            runtime.queue.enqueue(embed_job(app_id, number, attempts=attempts), delay_seconds=wait)
            return "waiting"
        vectors.put(app_id, number, embedding.vector)
    except (EmbeddingUnavailableError, VectorStoreError) as error:
        if attempts + 1 >= MAX_ATTEMPTS:
            log.warning("embedding of %s#%d failed: %s", app_id, number, error)
            return "failed"
        delay = retry_delay(attempts + 1)
        log.warning("embedding of %s#%d: %s; again in %.0f s", app_id, number, error, delay)
        runtime.queue.enqueue(embed_job(app_id, number, attempts=attempts + 1), delay_seconds=delay)
        return "retrying"
    except EmbeddingRefusedError as error:
        log.warning("embedding of %s#%d failed: %s", app_id, number, error)
        return "failed"
    return "embedded"
