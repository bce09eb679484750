"""A draft as search terms, and the scores both stores report (pure functions).

Terms are the draft's distinct words (letters and digits, case-folded), title
words first, without common English and feature-request filler words. Only the
start of very long text is read, and the number of terms is bounded, so a
60,000-character description costs what a paragraph does. Each term goes to
FTS5 as a quoted string: quotes cannot occur inside a term, so ``"``, ``*``,
``NEAR``, ``-`` or ``:`` in a draft are words or nothing, never query syntax.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence

_WORD = re.compile(r"[^\W_]+")

# Characters of each field read for terms, and terms kept per field.
TITLE_SCAN = 512
DESCRIPTION_SCAN = 2_000
MAX_TITLE_TERMS = 16
MAX_DESCRIPTION_TERMS = 24

# BM25 weights of the title and description columns (the title says most).
TITLE_WEIGHT = 4.0
DESCRIPTION_WEIGHT = 1.0

# score = s / (s + BM25_HALF) for s = -bm25: a BM25 of BM25_HALF scores 0.5.
BM25_HALF = 6.0

STOPWORDS = frozenset(
    """
    a about above after again all also am an and any are as at be because been before being
    below between both but by can could did do does doing don down during each else even
    ever every few for from further get gets getting had has have having he her here hers
    him his how i if in into is isn it its itself just me more most my myself no nor not now
    of off on once only or other our ours out over own same she should so some such than
    that the their them then there these they this those through to too under until up very
    was we were what when where which while who whom why will with would you your yours
    yourself able add added adding allow allowing app feature features like love maybe nice
    option please possible really request thanks thank want wanted way wish
    """.split()  # noqa: SIM905 -- a word list reads better as text
)


def words(text: str, *, scan: int) -> list[str]:
    """Distinct case-folded words of the first ``scan`` characters, in order, no stopwords."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(text[:scan].casefold()):
        if word not in STOPWORDS and (len(word) > 1 or word.isdigit()):
            seen.setdefault(word, None)
    return list(seen)


def draft_terms(title: str, description: str = "") -> tuple[str, ...]:
    """The search terms of a draft: title words, then description words not in the title."""
    title_terms = words(title, scan=TITLE_SCAN)[:MAX_TITLE_TERMS]
    body_terms = [
        word for word in words(description, scan=DESCRIPTION_SCAN) if word not in title_terms
    ]
    return (*title_terms, *body_terms[:MAX_DESCRIPTION_TERMS])


def match_expression(terms: Iterable[str]) -> str:
    """An FTS5 query matching any term: each one quoted, so none is syntax."""
    return " OR ".join(f'"{term}"' for term in terms)


def bm25_score(rank: float) -> float:
    """FTS5's ``bm25()`` (negative, lower is better) squashed into 0–1, higher is better."""
    strength = max(0.0, -rank)
    return round(strength / (strength + BM25_HALF), 4)


def blended_score(rank: float, terms: Sequence[str], title: str) -> float:
    """The mean of ``bm25_score`` and ``overlap_score``: BM25 alone gives almost nothing
    to words found in most of an app's requests (FTS5 clamps their IDF), which in a
    young app with a handful of requests is every word."""
    return round((bm25_score(rank) + overlap_score(terms, title)) / 2, 4)


def overlap_score(terms: Sequence[str], title: str) -> float:
    """How far a title's words and a draft's terms overlap (cosine of the two sets), 0–1.

    A word matches its plural and the other way round (``tag``/``tags``), which
    is as far as stemming goes without an index.
    """
    candidate = {_singular(word) for word in words(title, scan=TITLE_SCAN)}
    wanted = {_singular(term) for term in terms}
    if not candidate or not wanted:
        return 0.0
    shared = len(candidate & wanted)
    return round(shared / math.sqrt(len(candidate) * len(wanted)), 4)


def _singular(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word
