"""Spam signals of a submission's content, and which submissions moderation holds."""

from __future__ import annotations

import pytest

from bridge.domain import Hold
from bridge.moderation.signals import content_signals, hold_for, links_in
from bridge.settings import AppConfig, SpamConfig


def app(moderation: str) -> AppConfig:
    return AppConfig.model_validate(
        {"id": "mobile", "name": "M", "repo": "acme/m", "labels": ["x"], "moderation": moderation}
    )


def test_links_are_counted_with_their_hosts() -> None:
    text = "see https://a.example/x, http://user@B.example:8080/y and www.c.example. Not a.link"
    assert links_in(text) == ["a.example", "b.example", "www.c.example"]


def test_more_links_than_allowed_is_a_signal() -> None:
    spam = SpamConfig(max_links=2)
    two = "https://a.example https://b.example"
    assert content_signals(spam, "Title", two) == []
    assert content_signals(spam, "https://c.example", two) == ["links"]


@pytest.mark.parametrize(
    ("text", "tripped"),
    [
        ("Best CASINO bonus", True),
        ("casino.", True),
        ("Casinos are a place", False),  # whole words only
        ("occasional crashes", False),
    ],
)
def test_blocked_words_match_whole_words_in_any_case(text: str, tripped: bool) -> None:
    spam = SpamConfig(blocked_words=["casino"])
    assert ("blocked_word" in content_signals(spam, text, "")) is tripped


def test_blocked_domains_cover_subdomains_links_and_the_submitters_address() -> None:
    spam = SpamConfig.model_validate({"blocked_domains": ["Spam.Example"]})
    assert spam.blocked_domains == ["spam.example"]
    assert content_signals(spam, "t", "https://x.spam.example/offer") == ["blocked_domain"]
    assert content_signals(spam, "t", "https://spam.example") == ["blocked_domain"]
    assert content_signals(spam, "t", "https://notspam.example") == []
    assert content_signals(spam, "t", "", "bot@spam.example") == ["blocked_domain"]
    assert content_signals(spam, "t", "", "ada@example.com") == []


def test_an_ordinary_request_trips_nothing() -> None:
    assert (
        content_signals(SpamConfig(), "Dark mode", "Please add a dark theme, see www.x.example")
        == []
    )


def test_moderation_holds_by_its_setting() -> None:
    assert hold_for(app("signals"), ["links"]) is Hold.HELD
    assert hold_for(app("signals"), []) is None
    assert hold_for(app("all"), []) is Hold.HELD
    assert hold_for(app("none"), ["honeypot"]) is None


def test_the_default_is_to_hold_on_signals() -> None:
    bare = AppConfig.model_validate({"id": "m", "name": "M", "repo": "acme/m", "labels": ["x"]})
    assert bare.moderation == "signals"


def test_settings_name_what_is_wrong() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="moderation"):
        app("sometimes")
    with pytest.raises(ValidationError, match="blocked_domains"):
        SpamConfig.model_validate({"blocked_domains": ["not a domain"]})
