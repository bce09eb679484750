"""Spam signals of a submission's content: pure rules over its text and the app's settings."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from bridge.domain import Hold
from bridge.settings import AppConfig, SpamConfig

HONEYPOT = "honeypot"
LINKS = "links"
REPEAT = "repeat"
BLOCKED_WORD = "blocked_word"
BLOCKED_DOMAIN = "blocked_domain"

# What people and bots write as links: scheme URLs and bare www. hosts.
_LINK = re.compile(r"\b(?:https?://|www\.)([^\s/?#<>\"')\]]*)", re.IGNORECASE)


def links_in(text: str) -> list[str]:
    """The host of every link in ``text``, lower case (userinfo and port dropped)."""
    hosts = []
    for match in _LINK.finditer(text):
        host = match.group(1).rsplit("@", 1)[-1].split(":", 1)[0].rstrip(".").lower()
        if match.group(0).lower().startswith("www."):
            host = f"www.{host}"
        hosts.append(host)
    return hosts


def _under(host: str, domains: Iterable[str]) -> bool:
    return any(host == domain or host.endswith(f".{domain}") for domain in domains)


def _has_word(text: str, words: Iterable[str]) -> bool:
    folded = text.casefold()
    return any(re.search(rf"(?<!\w){re.escape(word.casefold())}(?!\w)", folded) for word in words)


def content_signals(
    spam: SpamConfig, title: str, description: str, email: str | None = None
) -> list[str]:
    """The signals the text trips: too many links, a blocked word, or a blocked domain
    in a link or in the submitter's address."""
    text = f"{title}\n{description}"
    found = []
    hosts = links_in(text)
    if len(hosts) > spam.max_links:
        found.append(LINKS)
    if spam.blocked_words and _has_word(text, spam.blocked_words):
        found.append(BLOCKED_WORD)
    if email:
        hosts.append(email.rsplit("@", 1)[-1].lower())
    if spam.blocked_domains and any(_under(host, spam.blocked_domains) for host in hosts):
        found.append(BLOCKED_DOMAIN)
    return found


def hold_for(app: AppConfig, signals: Sequence[str]) -> Hold | None:
    """Whether the app's moderation holds a submission with these signals for review."""
    if app.moderation == "all" or (app.moderation == "signals" and signals):
        return Hold.HELD
    return None
