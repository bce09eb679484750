"""What forgetting one person changes, as pure rules the stores apply.

A person is named by an email address. Their submissions lose the address and
the name that came with it; the address is removed from any text the index
keeps (a description someone typed it into, metadata, a voter key that is the
address, as some host apps make their token's ``sub``). Votes stay counted:
a voter key holding the address becomes an opaque key, the same for every vote
of that voter, so "voted" and uniqueness still hold.
"""

from __future__ import annotations

import hashlib
import re

from msgspec import Struct
from msgspec.structs import replace

from bridge.domain import SubmissionContent

REMOVED = "[removed]"
FORGOTTEN_PREFIX = "forgotten:"


class ForgetReport(Struct, frozen=True):
    """What was (or, in a dry run, would be) changed."""

    submissions: int = 0
    votes: int = 0
    texts: int = 0

    def summary(self, address: str, *, dry_run: bool) -> str:
        """One line for people."""
        verb = "would change" if dry_run else "changed"
        return (
            f"forget {address}: {verb} {self.submissions} submission(s),"
            f" {self.votes} vote(s) and {self.texts} other text(s)"
        )


def normalised(address: str) -> str:
    """The address as compared: trimmed and case-folded; ValueError unless it looks like one."""
    folded = address.strip().casefold()
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", folded):
        raise ValueError(f"{address!r} is not an email address")
    return folded


def mentions(text: str | None, address: str) -> bool:
    """Whether ``text`` holds the (normalised) address in any letter case."""
    return text is not None and address in text.casefold()


def scrubbed(text: str, address: str) -> str:
    """``text`` with every occurrence of the address replaced."""
    return re.sub(re.escape(address), REMOVED, text, flags=re.IGNORECASE)


def anonymised_voter(voter: str) -> str:
    """An opaque voter key standing for ``voter``: stable, so one voter stays one."""
    return FORGOTTEN_PREFIX + hashlib.sha256(voter.encode()).hexdigest()[:32]


def forgotten_content(content: SubmissionContent, address: str) -> SubmissionContent:
    """A submission's content without the address (and, when it was theirs, their name)."""
    theirs = content.email is not None and content.email.strip().casefold() == address
    return replace(
        content,
        title=scrubbed(content.title, address),
        description=scrubbed(content.description, address),
        metadata={
            key: scrubbed(value, address) if isinstance(value, str) else value
            for key, value in content.metadata.items()
        },
        email=None if theirs or mentions(content.email, address) else content.email,
        name=None if theirs else content.name,
    )
