"""``[[apps.notify.webhooks]]``: where an app's events go, validated with the rest of the file."""

from __future__ import annotations

import hashlib
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

EventType = Literal["request.created", "request.status_changed", "vote.milestone"]
EVENT_TYPES: tuple[EventType, ...] = ("request.created", "request.status_changed", "vote.milestone")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WebhookConfig(_Strict):
    """One outgoing webhook: a Slack incoming webhook or a signed JSON receiver."""

    url: Annotated[str, Field(min_length=1, max_length=2048)]
    format: Literal["slack", "json"] = "json"
    events: Annotated[list[EventType], Field(min_length=1)] = list(EVENT_TYPES)
    # The variable holding the HMAC secret of a ``json`` webhook.
    secret_env: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")] | None = None

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        try:
            parts.port  # noqa: B018 -- urlsplit checks the port only when asked for it
        except ValueError:
            parts = parts._replace(scheme="")
        plain = value.isascii() and value.isprintable() and " " not in value
        if parts.scheme not in ("http", "https") or not parts.hostname or not plain:
            raise ValueError(
                f"{value[:60]!r} is not an http(s) URL; use e.g. https://hooks.example.com/feedback"
                " (non-ASCII host names in their xn-- form)"
            )
        if parts.username is not None or parts.password is not None:
            raise ValueError("a webhook URL may not carry a user or password; sign with secret_env")
        return value

    @model_validator(mode="after")
    def _signed_json(self) -> WebhookConfig:
        if self.format == "json" and self.secret_env is None:
            raise ValueError(
                'a format = "json" webhook needs secret_env, the variable holding its signing'
                " secret (receivers check X-Featurebridge-Signature with it)"
            )
        if self.format == "slack" and self.secret_env is not None:
            raise ValueError(
                'secret_env is for format = "json"; a Slack webhook URL is its own secret'
            )
        if len(set(self.events)) != len(self.events):
            raise ValueError("events lists an event twice")
        return self

    @property
    def key(self) -> str:
        """A stable name for this target that does not reveal its URL (Slack URLs are secret)."""
        return "webhook:" + hashlib.sha256(self.url.encode()).hexdigest()[:12]

    @property
    def host(self) -> str:
        """The host events go to, safe to show operators (the path may hold a token)."""
        return urlsplit(self.url).hostname or ""


class AppNotifyConfig(_Strict):
    """``[apps.notify]``."""

    webhooks: list[WebhookConfig] = []

    @model_validator(mode="after")
    def _distinct(self) -> AppNotifyConfig:
        urls = [webhook.url for webhook in self.webhooks]
        if len(set(urls)) != len(urls):
            raise ValueError("two webhooks have the same url; list each receiver once")
        return self
