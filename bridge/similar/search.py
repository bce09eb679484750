"""The one search behind ``/similar``, the widget, the hosted form and the analysis.

Lexical (the store's ``similar``) when embeddings are off; with them, the
lexical candidates fused with the app's nearest vectors to the draft's
embedding (``bridge.similar.fusion``). The draft is embedded on the spot,
within the daily token budget; when it cannot be (over budget, Bedrock or the
vector index down) the answer is the lexical one.
"""

from __future__ import annotations

import logging

from bridge.domain import Request
from bridge.embeddings.values import Neighbour
from bridge.ports import (
    EmbeddingRefusedError,
    EmbeddingUnavailableError,
    SimilarMatch,
    VectorStoreError,
)
from bridge.runtime import Runtime
from bridge.similar.fusion import certain_head, fuse
from bridge.similar.originals import with_originals

log = logging.getLogger(__name__)

# Candidates taken from each ranking before fusing.
CANDIDATES = 20
# Fused matches read beyond ``limit``, so duplicates folded into their originals still
# leave a full answer.
_SLACK = 5


def find_similar(
    runtime: Runtime, app: str, title: str, description: str = "", *, limit: int = 5
) -> list[SimilarMatch]:
    """The app's requests most like a draft, best first, at most ``limit`` (scores 0–1).

    The rankings are fused by number; only the fused head is read from the index
    (``limit`` plus a few for duplicates folded into their originals), so a search
    reads a handful of requests beyond the lexical ones, not every neighbour.
    """
    store = runtime.store
    if runtime.embedder is None or runtime.vectors is None or limit < 1:
        return list(store.similar(app, title, description, limit=limit))
    lexical = list(store.similar(app, title, description, limit=max(limit, CANDIDATES)))
    neighbours = nearest(runtime, app, title, description)
    if neighbours is None:
        return lexical[:limit]
    known = {m.request.number: m.request for m in lexical}

    def read(number: int) -> Request | None:
        return known.get(number) or store.get_request(app, number)

    fused = fuse(
        [(m.request.number, m.score) for m in lexical],
        certain_head([(n.number, n.similarity) for n in neighbours], cut=CANDIDATES),
    )
    matches = []
    for number, score in fused[: limit + _SLACK]:
        request = read(number)
        if request is not None:  # a vector can outlive its request's place in the app
            matches.append(SimilarMatch(request, score))
    return with_originals(matches, read, limit=limit)


def nearest(runtime: Runtime, app: str, title: str, description: str) -> list[Neighbour] | None:
    """The app's requests nearest to the draft's embedding, best first; None when the draft
    cannot be embedded or the index searched now."""
    from bridge.embeddings.job import embed_within_budget, embedding_text

    embedder, vectors = runtime.embedder, runtime.vectors
    if embedder is None or vectors is None:
        return None
    try:
        embedding = embed_within_budget(runtime, embedder, embedding_text(title, description))
        if embedding is None:
            return None
        return vectors.nearest(app, embedding.vector, limit=CANDIDATES)
    except (EmbeddingUnavailableError, EmbeddingRefusedError, VectorStoreError) as error:
        log.warning("similar requests of %s stay lexical: %s", app, error)
        return None
