"""One typed settings object, built in layers: defaults, the TOML file, the environment.

``Settings.from_env(os.environ)`` is the only entry point; tests pass a dict.
Every error names the file, the key and the fix.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from bridge.domain import DEFAULT_BOARD_STATUS_OPTIONS, Status
from bridge.notify.config import AppNotifyConfig
from bridge.notify.email.config import EmailSettings, NotifySettings
from bridge.secrets import SecretResolver

DEFAULT_CONFIG_PATH = "featurebridge.toml"
DEFAULT_STORE_URL = "sqlite:///featurebridge.db"
DEFAULT_API_URL = "https://api.github.com"
ENV_FILE = "featurebridge.env"


class ConfigError(Exception):
    """The configuration cannot be used; the message says where and how to fix it."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RateLimits(_Strict):
    """Per client (an IPv4 address or an IPv6 /64) and app."""

    submissions_per_hour: Annotated[int, Field(ge=1)] = 10
    votes_per_hour: Annotated[int, Field(ge=1)] = 120
    # Anonymous ids cost nothing to make: one client's anonymous votes on one request, per day.
    anonymous_votes_per_request_per_day: Annotated[int, Field(ge=1)] = 5
    # Listings, one request and /similar; the widget reads a handful per page and per pause
    # in typing, so people never meet this, while a scraper or a loop does.
    reads_per_minute: Annotated[int, Field(ge=1)] = 300


class ServerSettings(_Strict):
    """The ``[server]`` table."""

    public_url: str = "http://127.0.0.1:8000"
    inline_delivery_seconds: Annotated[float, Field(ge=0, le=25)] = 3
    sync_interval_minutes: Annotated[int, Field(ge=1)] = 15
    # Every scheduled sync reads only the issues GitHub updated since the last one; a
    # 👍 does not update an issue, so a full pass at least this often heals the counts
    # (and issues that left an app unseen). Equal to sync_interval_minutes: always full.
    full_sync_interval_minutes: Annotated[int, Field(ge=1)] = 360
    voter_token_max_age: Annotated[int, Field(ge=60)] = 86_400
    # Submitters' emails and names are dropped after this many days; None keeps them.
    retain_personal_days: Annotated[int, Field(ge=1)] | None = None
    # Reverse proxies in front of `serve` whose X-Forwarded-For is trusted for the client IP.
    trusted_proxies: Annotated[int, Field(ge=0, le=5)] = 0
    # GitHub's secondary limits per installation are about 80 writes a minute and 500 an hour.
    github_writes_per_minute: Annotated[int, Field(ge=1, le=80)] = 80
    github_writes_per_hour: Annotated[int, Field(ge=1, le=500)] = 500
    # A delivery holds its submission this long; a worker that dies mid-delivery
    # delays that submission by as much. Longer than a few GitHub calls can take.
    delivery_lease_seconds: Annotated[int, Field(ge=2, le=3600)] = 120
    # Failed attempts before a delivery is dead (kept, listed, retried by an operator):
    # backoff tops out at 15 minutes, so 100 attempts is about a day of GitHub failing.
    delivery_max_attempts: Annotated[int, Field(ge=1, le=10_000)] = 100
    # Outgoing webhooks may reach loopback and private addresses (tests, intranets).
    allow_private_webhook_targets: bool = False
    # Sendable submissions waiting for GitHub per app; beyond it submissions get 429, so a
    # flood cannot starve the tallies and boards of real requests (held ones do not count).
    max_queued_per_app: Annotated[int, Field(ge=1)] = 1000
    rate_limits: RateLimits = RateLimits()

    @field_validator("public_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _full_sync_not_more_often(self) -> ServerSettings:
        if self.full_sync_interval_minutes < self.sync_interval_minutes:
            raise ValueError(
                "full_sync_interval_minutes must be at least sync_interval_minutes"
                f" ({self.sync_interval_minutes}): a full pass runs as one of the syncs"
            )
        return self


class ProjectConfig(_Strict):
    """A GitHub Projects v2 board owned by an organization."""

    owner: Annotated[str, Field(min_length=1, max_length=39)]
    number: Annotated[int, Field(ge=1)]
    status_options: dict[str, Status] = {}

    def board_options(self) -> dict[str, Status]:
        """Status option names → status: SPEC's defaults, then ``status_options``."""
        return {**DEFAULT_BOARD_STATUS_OPTIONS, **self.status_options}


class FormFieldMap(_Strict):
    """Which of a form's questions hold the request's title, description and email."""

    title: str
    description: str | None = None
    email: str | None = None


class GoogleFormsConfig(FormFieldMap):
    """``[apps.google_forms]``: Google Form question titles."""

    title: str = "Title"


class TypeformConfig(FormFieldMap):
    """``[apps.typeform]``: Typeform field refs (each field's ``ref``, set in its settings)."""

    title: str = "title"


class AnalysisSettings(_Strict):
    """``[analysis]``: Amazon Bedrock; analysis is off while ``model_id`` is unset."""

    model_id: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    embedding_model_id: str | None = None
    embedding_dimensions: Annotated[int, Field(ge=1, le=8192)] = 256
    region: str | None = None
    max_tokens: Annotated[int, Field(ge=100, le=8192)] = 800
    daily_token_budget: Annotated[int, Field(ge=0)] = 2_000_000


class AppAnalysisConfig(_Strict):
    """``[apps.analysis]``: whether this app is analysed and which labels may be applied."""

    enabled: bool = True
    apply_labels: bool = False
    allowed_labels: list[Annotated[str, Field(min_length=1, max_length=50)]] = []


Domain = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_lower=True,
        min_length=1,
        max_length=253,
        pattern=r"^[A-Za-z0-9.-]+$",
    ),
]


class SpamConfig(_Strict):
    """``[apps.spam]``: the spam signals that hold a submission for review (SPEC §10)."""

    # A field people never see; bots fill it. Widget and hosted form only.
    honeypot: bool = True
    # A signed render time (GET /v1/apps/{app}/form-token): faster than this is a bot;
    # 0 turns the render-time signals off. Widget and hosted form only.
    min_seconds_to_submit: Annotated[int, Field(ge=0, le=3600)] = 3
    # More links than this in the title and description.
    max_links: Annotated[int, Field(ge=0, le=1000)] = 3
    # The same title and description again from one client within this many hours; 0: off.
    repeat_within_hours: Annotated[int, Field(ge=0, le=720)] = 24
    # Whole words (any case) and link domains (and their subdomains) that hold a submission.
    blocked_words: list[Annotated[str, StringConstraints(min_length=1, max_length=100)]] = []
    blocked_domains: list[Domain] = []


class AppConfig(_Strict):
    """One product whose requests become issues in ``repo``."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9-]{1,40}$")]
    name: Annotated[str, Field(min_length=1, max_length=100)]
    repo: Annotated[str, Field(pattern=r"^[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}$")]
    labels: Annotated[list[Annotated[str, Field(min_length=1, max_length=50)]], Field(min_length=1)]
    allowed_origins: list[str] = []
    public: bool = False
    voter_secret_env: str | None = None
    form_secret_env: str | None = None
    typeform_secret_env: str | None = None
    anonymous_votes: bool = False
    # Submissions from the widget, the form and the API need a voter token (signed-in users).
    require_voter_token: bool = False
    # Which submissions wait for an operator's review: none, those with a spam signal, all.
    moderation: Literal["none", "signals", "all"] = "signals"
    spam: SpamConfig = SpamConfig()
    show_submitter_name: bool = False
    status_labels: dict[str, Status] = {}
    tier_weights: dict[str, Annotated[int, Field(ge=1, le=100)]] = {}
    project: ProjectConfig | None = None
    google_forms: GoogleFormsConfig = GoogleFormsConfig()
    typeform: TypeformConfig = TypeformConfig()
    # The Feedback Fin feedbackType values filed as requests; others are answered, not filed.
    feedbackfin_types: list[Annotated[str, Field(min_length=1, max_length=50)]] = ["idea"]
    # The analysis picks one of these; empty means the default set.
    categories: list[Annotated[str, Field(min_length=1, max_length=50)]] = []
    analysis: AppAnalysisConfig = AppAnalysisConfig()
    notify: AppNotifyConfig = AppNotifyConfig()

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            if not origin.startswith(("http://", "https://")) or origin.rstrip("/") != origin:
                raise ValueError(
                    f"{origin!r} is not an origin: use scheme://host[:port] with no path, "
                    'e.g. "https://app.example.com"'
                )
        return value


class FileConfig(_Strict):
    """The contents of ``featurebridge.toml``."""

    server: ServerSettings = ServerSettings()
    analysis: AnalysisSettings = AnalysisSettings()
    notify: NotifySettings = NotifySettings()
    apps: list[AppConfig] = []

    @model_validator(mode="after")
    def _unique_ids(self) -> FileConfig:
        seen: set[str] = set()
        for app in self.apps:
            if app.id in seen:
                raise ValueError(f"app id {app.id!r} is used twice; app ids must be unique")
            seen.add(app.id)
        return self

    @model_validator(mode="after")
    def _apps_apart(self) -> FileConfig:
        """No app may see another's issues or accept another's tokens or posts (SPEC §3)."""
        for n, first in enumerate(self.apps):
            for second in self.apps[n + 1 :]:
                problem = apps_overlap(first, second)
                if problem is not None:
                    raise ValueError(problem)
        return self


# The secrets each app must hold alone: (key in featurebridge.toml, what it signs).
APP_SECRETS: tuple[tuple[str, str], ...] = (
    ("voter_secret_env", "voter tokens"),
    ("form_secret_env", "Google Forms posts"),
    ("typeform_secret_env", "Typeform posts"),
)


def apps_overlap(first: AppConfig, second: AppConfig) -> str | None:
    """Why two apps would leak into each other, with the fix; None when they are apart."""
    if first.repo.lower() == second.repo.lower():
        a = {label.casefold() for label in first.labels}
        b = {label.casefold() for label in second.labels}
        if a <= b or b <= a:
            narrower, wider = (first, second) if a <= b else (second, first)
            relation = (
                "have the same labels"
                if a == b
                else f"every label of {narrower.id!r} is also a label of {wider.id!r}"
            )
            return (
                f"apps {first.id!r} and {second.id!r} share repo {first.repo} and {relation},"
                " so one app's issues would belong to the other: give each app a label the"
                f" other lacks, e.g. 'app:{first.id}' and 'app:{second.id}'"
            )
    for key, purpose in APP_SECRETS:
        variable = getattr(first, key)
        if variable is not None and variable == getattr(second, key):
            return (
                f"apps {first.id!r} and {second.id!r} both name {key} = {variable!r}, so each"
                f" would accept the other's {purpose}: give each app its own variable"
            )
    return None


class GitHubSettings(BaseModel):
    """How to reach GitHub; secrets are read through the resolver, never stored here."""

    model_config = ConfigDict(frozen=True)

    api_url: str = DEFAULT_API_URL
    app_id: str | None = None
    private_key_path: str | None = None


class Settings(BaseModel):
    """Everything the service needs to start."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    config_path: str | None
    server: ServerSettings = ServerSettings()
    analysis: AnalysisSettings = AnalysisSettings()
    # [notify.email]: Amazon SES; off while its sender is unset.
    notify: NotifySettings = NotifySettings()
    apps: tuple[AppConfig, ...] = ()
    store_url: str = DEFAULT_STORE_URL
    # The SQS job queue of the Lambda deployment; None under `serve` (a worker thread).
    queue_url: str | None = None
    # The stack's SNS topic of domain events; None: no topic (the default under `serve`).
    events_topic_arn: str | None = None
    # Where request vectors are kept: ``s3vectors://BUCKET/INDEX``; None keeps them in the
    # SQLite index (on DynamoDB without it, similar requests stay lexical).
    vectors_url: str | None = None
    github: GitHubSettings = GitHubSettings()
    secrets: SecretResolver

    def app(self, app_id: str) -> AppConfig | None:
        """The app with this id, if configured."""
        for app in self.apps:
            if app.id == app_id:
                return app
        return None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``featurebridge.toml`` (or FEATUREBRIDGE_CONFIG) and the env.

        ``featurebridge.env`` in the working directory, when present, supplies
        variables the environment does not set.
        """
        env = dict(os.environ if env is None else env)
        env = {**read_env_file(Path(env.get("FEATUREBRIDGE_ENV_FILE", ENV_FILE))), **env}
        explicit = env.get("FEATUREBRIDGE_CONFIG")
        path = Path(explicit or DEFAULT_CONFIG_PATH)
        if path.exists():
            file_config = load_file(path)
        elif explicit:
            raise ConfigError(
                f"{path}: FEATUREBRIDGE_CONFIG names a file that does not exist; "
                "fix the path or copy featurebridge.example.toml there"
            )
        else:
            file_config = FileConfig()
        return cls(
            config_path=str(path) if path.exists() else None,
            server=file_config.server,
            analysis=file_config.analysis.model_copy(
                update={
                    "region": file_config.analysis.region or env.get("AWS_REGION") or None,
                    # The Lambda template sets it from the parameter its IAM grant names.
                    "model_id": env.get("FEATUREBRIDGE_ANALYSIS_MODEL_ID")
                    or file_config.analysis.model_id,
                    "embedding_model_id": env.get("FEATUREBRIDGE_EMBEDDING_MODEL_ID")
                    or file_config.analysis.embedding_model_id,
                    "embedding_dimensions": _dimensions(env)
                    or file_config.analysis.embedding_dimensions,
                }
            ),
            notify=_notify(file_config.notify, env),
            apps=tuple(file_config.apps),
            store_url=env.get("FEATUREBRIDGE_STORE") or DEFAULT_STORE_URL,
            queue_url=env.get("FEATUREBRIDGE_QUEUE_URL") or None,
            events_topic_arn=env.get("FEATUREBRIDGE_EVENTS_TOPIC_ARN") or None,
            vectors_url=env.get("FEATUREBRIDGE_VECTORS") or None,
            github=GitHubSettings(
                api_url=(env.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/"),
                app_id=env.get("GITHUB_APP_ID") or None,
                private_key_path=env.get("GITHUB_APP_PRIVATE_KEY_PATH") or None,
            ),
            secrets=SecretResolver(env),
        )


def _notify(notify: NotifySettings, env: Mapping[str, str]) -> NotifySettings:
    """``[notify]`` with the environment's say: the Lambda stack sets the sender and its
    configuration set (``FEATUREBRIDGE_EMAIL_SENDER``, ``_CONFIGURATION_SET``), and the
    region falls back on ``AWS_REGION``."""
    email = notify.email
    values = {
        "sender": env.get("FEATUREBRIDGE_EMAIL_SENDER") or email.sender,
        "configuration_set": env.get("FEATUREBRIDGE_EMAIL_CONFIGURATION_SET")
        or email.configuration_set,
        "region": email.region or env.get("AWS_REGION") or None,
    }
    try:
        return NotifySettings(email=EmailSettings.model_validate(values))
    except ValidationError as error:
        problems = "; ".join(f"{p['loc'][0]}: {p['msg']}" for p in error.errors())
        raise ConfigError(
            f"[notify.email] with FEATUREBRIDGE_EMAIL_SENDER or"
            f" FEATUREBRIDGE_EMAIL_CONFIGURATION_SET: {problems}"
        ) from error


def _dimensions(env: Mapping[str, str]) -> int | None:
    """``FEATUREBRIDGE_EMBEDDING_DIMENSIONS`` (the stack's vector index size), if set."""
    value = env.get("FEATUREBRIDGE_EMBEDDING_DIMENSIONS") or None
    if value is None:
        return None
    if not value.isdigit() or not 1 <= int(value) <= 8192:
        raise ConfigError(
            f"FEATUREBRIDGE_EMBEDDING_DIMENSIONS={value!r}: use a whole number of 1-8192"
        )
    return int(value)


def load_file(path: Path) -> FileConfig:
    """Parse and validate a TOML config file, with errors that say where."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from error
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read: {error.strerror}") from error
    try:
        return FileConfig.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(_describe(path, raw, error)) from error


def _describe(path: Path, raw: Mapping[str, Any], error: ValidationError) -> str:
    lines = [f"{path}: {error.error_count()} problem(s) in the configuration"]
    for problem in error.errors():
        lines.append(f"  {_key_path(raw, problem['loc'])}: {_fix_hint(problem)}")
    return "\n".join(lines)


def _key_path(raw: Mapping[str, Any], loc: tuple[int | str, ...]) -> str:
    """Name a location the way the TOML file spells it: apps[1] becomes the app's id."""
    parts: list[str] = []
    node: Any = raw
    for step in loc:
        if isinstance(step, int):
            label = f"[{step}]"
            if isinstance(node, list) and step < len(node) and isinstance(node[step], dict):
                app_id = node[step].get("id")
                if isinstance(app_id, str):
                    label = f"[{step}] (id = {app_id!r})"
            parts.append(label)
            node = node[step] if isinstance(node, list) and step < len(node) else None
        else:
            parts.append(("." if parts else "") + step)
            node = node.get(step) if isinstance(node, dict) else None
    return "".join(parts) or "(top level)"


def _fix_hint(problem: Mapping[str, Any]) -> str:
    kind = problem["type"]
    if kind == "extra_forbidden":
        return "unknown key; remove it or check its spelling against featurebridge.example.toml"
    if kind == "missing":
        return "required key is missing; add it"
    if kind == "enum":
        allowed = ", ".join(status.value for status in Status)
        return f"{problem['input']!r} is not a status; use one of {allowed}"
    if kind == "string_pattern_mismatch":
        field = problem["loc"][-1]
        if field == "repo":
            return f'{problem["input"]!r} must be "owner/name", e.g. "acme/mobile"'
        if field == "id":
            return f"{problem['input']!r} must be 1-40 of a-z, 0-9 and '-'"
    return str(problem["msg"])


def read_env_file(path: Path) -> dict[str, str]:
    """Read ``KEY=value`` lines (values may be double-quoted with \\n escapes)."""
    if not path.is_file():
        return {}
    values: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, sep, value = stripped.partition("=")
        if not sep or not key.strip().isidentifier():
            raise ConfigError(f"{path}:{number}: expected KEY=value")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1].replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")
        values[key.strip()] = value
    return values
