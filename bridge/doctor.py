"""``featurebridge doctor``: what is wrong with this installation, and how to fix it."""

from __future__ import annotations

import hmac
from typing import TextIO

from msgspec import Struct

from bridge.app import default_analyzer, default_embedder, default_vectors
from bridge.boards import board_of, board_problems
from bridge.ports import (
    Analyzer,
    Embedder,
    EmbeddingRefusedError,
    EmbeddingUnavailableError,
    IssueTracker,
    StoreError,
    TrackerError,
    VectorIndex,
)
from bridge.secrets import SIGNING_FALLBACKS, SIGNING_SECRET
from bridge.settings import APP_SECRETS, ConfigError, Settings
from bridge.stores import StoreUrlError, open_store
from bridge.tracking import build_tracker


class Finding(Struct, frozen=True):
    """One check's outcome."""

    ok: bool
    subject: str
    detail: str


def check(settings: Settings) -> list[Finding]:
    """Run every check that needs no network beyond the index store."""
    findings = [
        Finding(
            settings.config_path is not None,
            "config",
            f"read {settings.config_path}"
            if settings.config_path
            else "no featurebridge.toml: copy featurebridge.example.toml and edit it",
        ),
        Finding(bool(settings.apps), "apps", f"{len(settings.apps)} app(s) configured"),
    ]
    try:
        store = open_store(settings.store_url)
        store.ping()
        problems = store.diagnose()
    except (StoreError, StoreUrlError) as error:
        problems = [str(error)]
    findings.extend(Finding(False, "index", problem) for problem in problems)
    if not problems:
        findings.append(Finding(True, "index", f"{settings.store_url} answers"))
    tracker = build_tracker(settings)
    health = tracker.health()
    findings.append(Finding(health.configured, "github", health.detail))
    if health.configured:
        findings.extend(_repo_findings(settings, tracker))
        findings.extend(_board_findings(settings, tracker))
    findings.append(analysis_finding(settings, default_analyzer(settings)))
    embedder = default_embedder(settings)
    try:
        vectors = default_vectors(settings, embedder)
    except ConfigError as error:
        findings.append(Finding(False, "embeddings", str(error)))
    else:
        findings.append(embeddings_finding(settings, embedder, vectors))
    if not settings.secrets.is_set("FEATUREBRIDGE_ADMIN_TOKEN"):
        findings.append(
            Finding(
                False, "admin token", "set FEATUREBRIDGE_ADMIN_TOKEN to use /v1/export and /v1/sync"
            )
        )
    for app in settings.apps:
        for key, purpose in APP_SECRETS:
            variable = getattr(app, key)
            if variable and not settings.secrets.is_set(variable):
                findings.append(
                    Finding(False, f"app {app.id}", f"{variable} is not set ({purpose} refused)")
                )
        for hook in app.notify.webhooks:
            if hook.secret_env and not settings.secrets.is_set(hook.secret_env):
                findings.append(
                    Finding(
                        False,
                        f"app {app.id}",
                        f"{hook.secret_env} is not set (the webhook to {hook.host} waits)",
                    )
                )
    findings.extend(shared_secret_findings(settings))
    findings.append(signing_finding(settings))
    findings.extend(email_findings(settings))
    return findings


def email_findings(settings: Settings, client: object | None = None) -> list[Finding]:
    """Email off (fine), or the sender's SES identity verified and the account out of the
    sandbox."""
    from bridge.notify.email.checks import email_checks

    return [
        Finding(ok, "email", detail) for ok, detail in email_checks(settings.notify.email, client)
    ]


def signing_finding(settings: Settings) -> Finding:
    """Whether every process of this deployment signs its own tokens with one key."""
    if settings.secrets.is_set(SIGNING_SECRET):
        return Finding(True, "signing key", f"from {SIGNING_SECRET}")
    for name in SIGNING_FALLBACKS:
        if settings.secrets.is_set(name):
            return Finding(
                True, "signing key", f"derived from {name}; set {SIGNING_SECRET} to rotate it apart"
            )
    return Finding(
        False,
        "signing key",
        f"set {SIGNING_SECRET}: without it each process signs with a random key, so form tokens "
        "and unsubscribe links of one process fail in another and after a restart",
    )


def shared_secret_findings(settings: Settings) -> list[Finding]:
    """Two apps whose secrets hold the same value accept each other's tokens or posts."""
    held: list[tuple[str, str, str]] = []  # (app id, variable, value)
    for app in settings.apps:
        for key, _ in APP_SECRETS:
            variable = getattr(app, key)
            value = settings.secrets.get(variable) if variable else None
            if value:
                held.append((app.id, variable, value))
    findings = []
    for n, (first, first_variable, value) in enumerate(held):
        for second, second_variable, other in held[n + 1 :]:
            if first != second and hmac.compare_digest(value.encode(), other.encode()):
                findings.append(
                    Finding(
                        False,
                        "secrets",
                        f"apps {first} and {second}: {first_variable} and {second_variable}"
                        " hold the same value, so each app accepts the other's tokens or"
                        " posts: give each app its own secret",
                    )
                )
    return findings


def analysis_finding(settings: Settings, analyzer: Analyzer | None) -> Finding:
    """Analysis off (fine), or the model reached with one cheap call (a one-token answer)."""
    if analyzer is None:
        return Finding(True, "analysis", "off: set [analysis] model_id to analyse requests")
    region = settings.analysis.region or "the default region"
    try:
        model = analyzer.check_access()
    except Exception as error:
        return Finding(
            False,
            "analysis",
            f"{settings.analysis.model_id} in {region} did not answer: {error}; check the"
            " model id, that model access is granted in Bedrock, and the IAM policy",
        )
    return Finding(True, "analysis", f"{model} answers in {region}")


def embeddings_finding(
    settings: Settings, embedder: Embedder | None, vectors: VectorIndex | None
) -> Finding:
    """Embeddings off (fine), or the model and the vector index reached and of one size."""
    if embedder is None:
        return Finding(True, "embeddings", "off: similar requests are lexical")
    if vectors is None:
        return Finding(
            False,
            "embeddings",
            "no vector index for this store: set FEATUREBRIDGE_VECTORS=s3vectors://BUCKET/INDEX",
        )
    problem = vectors.problem(settings.analysis.embedding_dimensions)
    if problem is not None:
        return Finding(False, "embeddings", problem)
    try:
        embedder.embed("OK")
    except (EmbeddingUnavailableError, EmbeddingRefusedError) as error:
        return Finding(
            False,
            "embeddings",
            f"{settings.analysis.embedding_model_id} did not answer: {error}; check the model"
            " id, embedding_dimensions, model access in Bedrock and the IAM policy",
        )
    return Finding(True, "embeddings", f"{embedder.key} answers; its vectors can be kept")


def _repo_findings(settings: Settings, tracker: IssueTracker) -> list[Finding]:
    """Each app's repository: reachable by the App, and its status labels present."""
    findings = []
    for app in settings.apps:
        subject = f"app {app.id}"
        try:
            labels = {label.lower() for label in tracker.repo_labels(app.repo)}
        except TrackerError as error:
            findings.append(Finding(False, subject, f"{app.repo}: {error}; install the App there"))
            continue
        missing = sorted(label for label in app.status_labels if label.lower() not in labels)
        if missing:
            findings.append(
                Finding(
                    False,
                    subject,
                    f"status label(s) {', '.join(map(repr, missing))} do not exist in {app.repo}"
                    " (renamed or deleted?): fix [apps.status_labels] or restore them",
                )
            )
        else:
            findings.append(Finding(True, subject, f"{app.repo} reachable, status labels present"))
    return findings


def _board_findings(settings: Settings, tracker: IssueTracker) -> list[Finding]:
    """Each board: owned by an organization, Status options mapped, a Votes number field."""
    findings: list[Finding] = []
    for app in settings.apps:
        project = board_of(app)
        if app.project is None or project is None:
            continue
        subject = f"app {app.id} board"
        try:
            problems = board_problems(app.project, tracker.board_shape(project, app.repo))
        except TrackerError as error:
            problems = [f"board {project.owner}/{project.number}: {error}"]
        findings.extend(Finding(False, subject, problem) for problem in problems)
        if not problems:
            detail = f"board {project.owner}/{project.number}: Status mapped, Votes field present"
            findings.append(Finding(True, subject, detail))
    return findings


def run_doctor(settings: Settings, *, out: TextIO) -> int:
    """Print each finding; exit 0 when all is well, 1 otherwise."""
    findings = check(settings)
    for finding in findings:
        mark = "ok " if finding.ok else "FIX"
        print(f"[{mark}] {finding.subject}: {finding.detail}", file=out)
    return 0 if all(finding.ok for finding in findings) else 1
