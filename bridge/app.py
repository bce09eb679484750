"""The one wiring point: settings in, adapters built once, a Flask app out.

``featurebridge serve``, the Lambda entries and the tests all come through
here; tests pass their own settings and adapters.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from flask import Flask
from werkzeug.routing import Rule

from bridge.api import (
    analysis,
    apps,
    email_links,
    export,
    feedbackfin,
    github,
    google_forms,
    notifications,
    ops,
    pages,
    requests,
    typeform,
    votes,
)
from bridge.api.access import numbers_fit_64_bits
from bridge.api.body import FLASK_BODY_LIMIT
from bridge.api.errors import register_error_handlers
from bridge.api.request_log import install_request_log
from bridge.inline import InlineDelivery
from bridge.moderation import api as moderation_api
from bridge.outbox import api as outbox_api
from bridge.pacing import Budget, ContentPacer, Pacer, SharedPacer
from bridge.runtime import Runtime
from bridge.secrets import signing_key
from bridge.settings import ConfigError, Settings
from bridge.stores import open_store
from bridge.timeutil import utcnow
from bridge.tracking import build_tracker

if TYPE_CHECKING:
    from bridge.domain import Submission
    from bridge.notify.email.sending import EmailNotifier
    from bridge.notify.model import EventPublisher
    from bridge.notify.service import Notifications
    from bridge.ports import Analyzer, Embedder, IndexStore, IssueTracker, JobQueue, VectorIndex


def build_runtime(
    settings: Settings,
    *,
    store: IndexStore | None = None,
    tracker: IssueTracker | None = None,
    queue: JobQueue | None = None,
    clock: Callable[[], datetime] = utcnow,
    analyzer: Analyzer | None = None,
    notifications: Notifications | None = None,
    embedder: Embedder | None = None,
    vectors: VectorIndex | None = None,
) -> Runtime:
    """Build each adapter from settings unless the caller supplies it."""
    budget = Budget(
        per_minute=settings.server.github_writes_per_minute,
        per_hour=settings.server.github_writes_per_hour,
    )
    store = store if store is not None else open_store(settings.store_url)
    embedder = embedder if embedder is not None else default_embedder(settings)
    pacer: ContentPacer
    if settings.store_url.startswith("dynamodb://"):
        # Several processes (Lambda environments) share the installation's budget.
        pacer = SharedPacer(
            budget,
            lambda key, seconds, now: store.hit_rate_limit(key, window_seconds=seconds, now=now),
            clock,
        )
    else:
        pacer = Pacer(budget, clock=lambda: clock().timestamp())
    vectors = vectors if vectors is not None else default_vectors(settings, embedder)
    if embedder is None or vectors is None:
        # Embeddings are used where their vectors can be kept, else not at all.
        embedder = vectors = None
    key = functools.cache(functools.partial(signing_key, settings.secrets))
    return Runtime(
        settings=settings,
        store=store,
        tracker=tracker if tracker is not None else build_tracker(settings),
        queue=queue if queue is not None else default_queue(settings),
        pacer=pacer,
        clock=clock,
        signing_key=key,
        analyzer=analyzer if analyzer is not None else default_analyzer(settings),
        notifications=notifications
        if notifications is not None
        else default_notifications(settings, email=default_email(settings, store, key)),
        embedder=embedder,
        vectors=vectors,
    )


def default_notifications(
    settings: Settings, *, email: EmailNotifier | None = None
) -> Notifications | None:
    """Webhooks for the apps that list some, SNS when a topic ARN is set, ``email`` when
    given; None when none of them, and then none of their modules load."""
    topic = settings.events_topic_arn
    if topic is None and email is None and not any(app.notify.webhooks for app in settings.apps):
        return None
    from bridge.notify.service import Notifications
    from bridge.notify.webhooks import SafeWebhookPoster

    publisher: EventPublisher | None = None
    if topic is not None:
        from bridge.notify.sns import SNSPublisher

        publisher = SNSPublisher(topic)
    poster = SafeWebhookPoster(allow_private=settings.server.allow_private_webhook_targets)
    return Notifications(settings, poster=poster, publisher=publisher, email=email)


def default_email(
    settings: Settings, store: IndexStore, key: Callable[[], bytes]
) -> EmailNotifier | None:
    """SES v2 when ``[notify.email] sender`` is set; None (email off) otherwise.

    Email's modules (its rendering, the standard library's email policies) load
    only when it is on.
    """
    if not settings.notify.email.enabled:
        return None
    from bridge.notify.email.sending import EmailNotifier
    from bridge.notify.email.ses import SESSender

    return EmailNotifier(settings, store=store, key=key, sender=SESSender(settings.notify.email))


def default_analyzer(settings: Settings) -> Analyzer | None:
    """Bedrock when ``[analysis] model_id`` is set; its client is built on first use."""
    if not settings.analysis.model_id:
        return None
    from bridge.analysis.bedrock import BedrockAnalyzer

    return BedrockAnalyzer(settings.analysis)


def default_embedder(settings: Settings) -> Embedder | None:
    """Bedrock when ``[analysis] embedding_model_id`` is set; its client is built on first use."""
    if not settings.analysis.embedding_model_id:
        return None
    from bridge.embeddings.bedrock import BedrockEmbedder

    return BedrockEmbedder(settings.analysis)


def default_vectors(settings: Settings, embedder: Embedder | None) -> VectorIndex | None:
    """S3 Vectors where ``FEATUREBRIDGE_VECTORS`` names an index, else the SQLite index's file;
    None while embeddings are off (or on DynamoDB without an S3 Vectors index)."""
    if embedder is None:
        return None
    if settings.vectors_url:
        from bridge.embeddings.s3vectors import S3Vectors, parse_url

        try:
            return S3Vectors(*parse_url(settings.vectors_url))
        except ValueError as error:
            raise ConfigError(f"FEATUREBRIDGE_VECTORS: {error}") from error
    if not settings.store_url.startswith("sqlite:///"):
        return None
    from bridge.embeddings.sqlite import SQLiteVectors

    return SQLiteVectors(
        settings.store_url.removeprefix("sqlite:///"),
        key=embedder.key,
        dimensions=settings.analysis.embedding_dimensions,
    )


def default_queue(settings: Settings) -> JobQueue:
    """SQS when ``FEATUREBRIDGE_QUEUE_URL`` names a queue (Lambda), else the in-process thread."""
    if settings.queue_url:
        from bridge.queues_sqs import SQSJobQueue

        return SQSJobQueue(settings.queue_url)
    from bridge.queues import ThreadJobQueue

    return ThreadJobQueue()


class LazyBuilderRule(Rule):
    """A URL rule whose URL builder is compiled the first time a URL is built from it.

    Werkzeug compiles two builders (Python source, then bytecode) for every rule
    as it is added, about 0.35 ms a rule (some 11 ms of every cold start for the
    app's routes), while only a submission's ``Location`` header ever builds a URL.
    """

    def _compile_builder(self, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        compiled: Callable[..., tuple[str, str]] | None = None

        def build(rule: Rule, **values: object) -> tuple[str, str]:
            nonlocal compiled
            if compiled is None:
                compiled = Rule._compile_builder(rule, append_unknown)
            return compiled(rule, **values)

        return build


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> Flask:
    """The Flask application, wired to ``runtime`` (built from settings if absent)."""
    if runtime is None:
        runtime = build_runtime(settings or Settings.from_env())
    # No static folder: the service serves no files from its working directory.
    app = Flask("featurebridge", static_folder=None)
    app.url_rule_class = LazyBuilderRule
    app.config["MAX_CONTENT_LENGTH"] = FLASK_BODY_LIMIT
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["featurebridge"] = runtime
    bound = runtime

    def deliver_now(leased: Submission, lease_until: datetime) -> Submission | None:
        # Delivery (issue rendering, boards) loads with the first submission, not at start.
        from bridge.delivery import deliver_leased

        return deliver_leased(bound, leased, lease_until=lease_until)

    app.extensions["featurebridge.inline"] = InlineDelivery(deliver_now)
    hops = runtime.settings.server.trusted_proxies
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )
    install_request_log(app)
    register_error_handlers(app)
    app.url_value_preprocessor(numbers_fit_64_bits)
    app.register_blueprint(apps.blueprint)
    app.register_blueprint(requests.blueprint)
    app.register_blueprint(votes.blueprint)
    app.register_blueprint(google_forms.blueprint)
    app.register_blueprint(typeform.blueprint)
    app.register_blueprint(feedbackfin.blueprint)
    app.register_blueprint(export.blueprint)
    app.register_blueprint(ops.blueprint)
    app.register_blueprint(analysis.blueprint)
    app.register_blueprint(notifications.blueprint)
    app.register_blueprint(moderation_api.moderation)
    app.register_blueprint(moderation_api.public)
    app.register_blueprint(outbox_api.blueprint)
    app.register_blueprint(github.blueprint)
    app.register_blueprint(pages.blueprint)
    app.register_blueprint(email_links.blueprint)
    return app
