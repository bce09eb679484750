"""``[notify.email]``: the sender, configuration set and region of Amazon SES v2."""

from __future__ import annotations

from email.utils import parseaddr
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EmailSettings(_Strict):
    """Email is off while ``sender`` is unset."""

    sender: Annotated[str, Field(min_length=3, max_length=320)] | None = None
    configuration_set: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")] | None = None
    region: Annotated[str, Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")] | None = None

    @field_validator("sender")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        _, address = parseaddr(value)
        local, _, domain = address.rpartition("@")
        plain = value.isprintable() and "\n" not in value
        if not local or "." not in domain or not plain:
            raise ValueError(
                f"{value[:60]!r} is not a sender address; use e.g."
                ' "Acme Feedback <feedback@acme.example>" (an SES verified identity)'
            )
        return value

    @property
    def enabled(self) -> bool:
        """Whether email is on."""
        return self.sender is not None

    @property
    def sender_address(self) -> str:
        """The bare address of ``sender`` (its SES identity is it or its domain)."""
        return parseaddr(self.sender or "")[1]


class NotifySettings(_Strict):
    """The ``[notify]`` table."""

    email: EmailSettings = EmailSettings()
