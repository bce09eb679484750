"""Screening one submission: every spam signal it trips, from its content and its browser."""

from __future__ import annotations

import hashlib

from msgspec import Struct

from bridge.domain import Hold
from bridge.moderation import form_token
from bridge.moderation.signals import HONEYPOT, REPEAT, content_signals, hold_for
from bridge.ports import RepeatCheck
from bridge.runtime import Runtime
from bridge.settings import AppConfig


class BrowserProof(Struct, frozen=True):
    """What the widget and the hosted form send to show a person filled them in."""

    honeypot: str
    form_token: str | None


def _repeat_key(app: str, client: str, title: str, description: str) -> str:
    # Hashed: the counter's key is stored, and the text and the client are nobody's business.
    text = "\x1f".join((app, client, " ".join(title.casefold().split()), description.strip()))
    return f"repeat:{hashlib.sha256(text.encode()).hexdigest()}"


class Screening(Struct, frozen=True):
    """What screening found before the submission is stored.

    ``signals`` are those its content and browser trip, and ``hold`` the app's
    moderation of them; ``repeat`` is the check the store makes as it stores the
    submission (the text is counted in the index, so every process agrees), with
    the hold and signals of a repeat.
    """

    signals: tuple[str, ...]
    hold: Hold | None
    repeat: RepeatCheck | None


def screen(
    runtime: Runtime,
    app: AppConfig,
    *,
    title: str,
    description: str,
    email: str | None,
    client: str | None,
    browser: BrowserProof | None,
) -> Screening:
    """The signals a submission trips, in a stable order; none when it looks like a person's.

    ``browser`` is None for submissions that carry a valid voter token or do not
    come from the widget or the form: those skip the honeypot and the render time.
    ``client`` is None for signed server-to-server posts (Google Forms, Typeform),
    whose sender is the form service, not a person: they skip the repeat check.
    """
    spam = app.spam
    now = runtime.clock()
    found = content_signals(spam, title, description, email)
    if browser is not None:
        if spam.honeypot and browser.honeypot.strip():
            found.append(HONEYPOT)
        if spam.min_seconds_to_submit:
            tripped = form_token.signal(
                runtime.signing_key(),
                app.id,
                browser.form_token,
                now=now,
                min_seconds=spam.min_seconds_to_submit,
            )
            if tripped:
                found.append(tripped)
    signals = tuple(found)
    repeat = None
    if spam.repeat_within_hours and client is not None:
        # Counted like rate limits, in windows of repeat_within_hours: the second sight
        # of a text within one window is a repeat.
        repeated = (*signals, REPEAT)
        repeat = RepeatCheck(
            _repeat_key(app.id, client, title, description),
            window_seconds=spam.repeat_within_hours * 3600,
            hold=hold_for(app, repeated),
            signals=repeated,
        )
    return Screening(signals, hold_for(app, signals), repeat)
