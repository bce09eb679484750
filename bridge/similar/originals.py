"""Search results as people should see them: a duplicate shows its original."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from bridge.domain import Request, Status
from bridge.ports import SimilarMatch


def with_originals(
    matches: Iterable[SimilarMatch], original: Callable[[int], Request | None], *, limit: int
) -> list[SimilarMatch]:
    """The best ``limit`` matches, best first, each request once.

    A request closed as a duplicate is replaced by its original (looked up with
    ``original``, which returns None when it is not in the app), keeping the
    better score of the two; one whose original is unknown is shown itself.
    Ties go to the lower (older) number.
    """
    best: dict[int, SimilarMatch] = {}
    for match in matches:
        shown, pointer = match, match.request.duplicate_of
        if match.request.status is Status.DUPLICATE and pointer not in (None, match.request.number):
            target = original(pointer) if pointer is not None else None
            if target is not None:
                shown = SimilarMatch(request=target, score=match.score)
        number = shown.request.number
        if number not in best or best[number].score < shown.score:
            best[number] = shown
    return sorted(best.values(), key=lambda m: (-m.score, m.request.number))[:limit]
