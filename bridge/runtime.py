"""The adapters and shared state one process runs with, built once by the wiring point."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from msgspec import Struct

from bridge.pacing import ContentPacer
from bridge.ports import Analyzer, Embedder, IndexStore, IssueTracker, JobQueue, VectorIndex
from bridge.settings import Settings

if TYPE_CHECKING:
    from bridge.notify.service import Notifications


class Runtime(Struct, frozen=True):
    """Settings plus the ports; handed to views, job functions and commands."""

    settings: Settings
    store: IndexStore
    tracker: IssueTracker
    queue: JobQueue
    pacer: ContentPacer
    clock: Callable[[], datetime]
    # The deployment's own signing key (bridge.secrets.signing_key), resolved on first use
    # and then kept: a cold start answering /healthz never reads an SSM parameter for it.
    signing_key: Callable[[], bytes]
    # None while [analysis] model_id is unset: analysis is off.
    analyzer: Analyzer | None = None
    # None while no app has webhooks and no SNS topic is configured.
    notifications: Notifications | None = None
    # None while [analysis] embedding_model_id is unset (or no vector index is at hand):
    # similar requests are lexical only.
    embedder: Embedder | None = None
    vectors: VectorIndex | None = None
