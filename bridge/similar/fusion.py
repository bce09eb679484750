"""Reciprocal-rank fusion of the lexical and the semantic rankings (pure functions).

RRF adds ``1 / (k + rank)`` over the rankings an item appears in, so only the
order within each ranking counts, never the scale of BM25 or of a cosine
(Cormack, Clarke and Büttcher, SIGIR 2009; k = 60 as there). Scores that are
equal to four places share a rank: a ranking that cannot tell items apart
(vectors that carry no information) adds the same to each of them, and the
lexical order stands. Ties in the fused score keep the lexical order too.
A ranking cut at its first ``n`` (the nearest vectors) loses the items tied
with its last: the cut chose among them at random, and items past it may
score the same (``certain_head``).
"""

from __future__ import annotations

from collections.abc import Sequence

RRF_K = 60
# Scores equal to this many places are ties (float32 products differ in the last bits).
PLACES = 4


def competition_ranks(scores: Sequence[float]) -> list[int]:
    """Ranks of scores given best first: equal scores share the better rank (1, 2, 2, 4)."""
    ranks: list[int] = []
    for position, score in enumerate(scores):
        tied = position > 0 and round(score, PLACES) == round(scores[position - 1], PLACES)
        ranks.append(ranks[-1] if tied else position + 1)
    return ranks


def certain_head(ranking: Sequence[tuple[int, float]], *, cut: int) -> list[tuple[int, float]]:
    """A ranking asked for its first ``cut`` items, less those tied with its last when it
    holds ``cut`` (more items may share that score beyond the cut; with vectors all
    equal, none is left)."""
    if len(ranking) < cut or not ranking:
        return list(ranking)
    last = round(ranking[-1][1], PLACES)
    return [(number, score) for number, score in ranking if round(score, PLACES) != last]


def fuse(
    lexical: Sequence[tuple[int, float]],
    semantic: Sequence[tuple[int, float]],
    *,
    k: int = RRF_K,
) -> list[tuple[int, float]]:
    """(number, score) of both rankings fused, best first; each ranking is (number, score)
    best first. The score is the RRF sum scaled to 0–1 (1: first in both)."""
    fused: dict[int, float] = {}
    for ranking in (lexical, semantic):
        ranks = competition_ranks([score for _, score in ranking])
        for (number, _), rank in zip(ranking, ranks, strict=True):
            fused[number] = fused.get(number, 0.0) + 1.0 / (k + rank)
    lexical_place = {number: place for place, (number, _) in enumerate(lexical)}
    best = sorted(fused, key=lambda n: (-fused[n], lexical_place.get(n, len(lexical_place)), n))
    scale = (k + 1) / 2
    return [(number, round(min(1.0, fused[number] * scale), PLACES)) for number in best]
