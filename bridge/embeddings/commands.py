"""``featurebridge reindex`` and ``featurebridge similar-eval``."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from msgspec import Struct
from msgspec.structs import replace

from bridge.app import build_runtime
from bridge.commands import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    CommandQueue,
    Progress,
    all_numbers,
    run_with_retries,
)
from bridge.embeddings.job import embed_request, embedding_text, worst_case_tokens
from bridge.embeddings.values import Embedding
from bridge.ports import Embedder
from bridge.runtime import Runtime
from bridge.settings import Settings
from bridge.similar.evaluation import PairsError, read_pairs, recall_at
from bridge.similar.search import find_similar

OFF = (
    "embeddings are off: set [analysis] embedding_model_id (on DynamoDB also"
    " FEATUREBRIDGE_VECTORS=s3vectors://BUCKET/INDEX)"
)


def _usage(message: str) -> int:
    print(f"featurebridge: {message}", file=sys.stderr)
    return EXIT_USAGE


def run_reindex(
    settings: Settings,
    *,
    app_id: str,
    dry_run: bool,
    out: TextIO,
    sleep: Callable[[float], None] = time.sleep,
    runtime: Runtime | None = None,
) -> int:
    """``featurebridge reindex``: embed every request of the app again and keep its vector."""
    if settings.app(app_id) is None:
        return _usage(f"no app {app_id!r} in the configuration")
    # A runtime given (tests) must hold a CommandQueue too.
    runtime = runtime or build_runtime(settings, queue=CommandQueue())
    queue = runtime.queue
    if not isinstance(queue, CommandQueue):
        raise TypeError("featurebridge reindex runs its retries from a CommandQueue")
    if runtime.embedder is None or runtime.vectors is None:
        print(f"featurebridge: {OFF}", file=out)
        return EXIT_PROBLEMS
    problem = runtime.vectors.problem(settings.analysis.embedding_dimensions)
    if problem is not None:
        print(f"featurebridge: {problem}", file=out)
        return EXIT_PROBLEMS
    progress = Progress(f"reindexing {app_id}")
    counts: dict[str, int] = {}
    for done, number in enumerate(all_numbers(runtime, app_id), 1):
        if dry_run:
            request = runtime.store.get_request(app_id, number)
            description = runtime.store.description(app_id, number)
            if request is None or description is None:
                result, line = "missing", f"#{number}: missing"
            else:
                tokens = worst_case_tokens(embedding_text(request.title, description))
                result = "would embed"
                line = f"#{number} {request.title}: would embed (up to {tokens:,} tokens)"
        else:
            result = run_with_retries(embed_request, runtime, queue, app_id, number, sleep=sleep)
            line = f"#{number}: {result}"
        counts[result] = counts.get(result, 0) + 1
        progress(done)
        print(line, file=out)
    progress.close()
    summary = ", ".join(f"{count} {result}" for result, count in sorted(counts.items()))
    print(f"{app_id}: {summary or 'no requests'}" + (" (dry run)" if dry_run else ""), file=out)
    return EXIT_PROBLEMS if set(counts) - {"embedded", "would embed"} else EXIT_OK


class _Counting(Struct):
    """The configured embedder, counting what the drafts cost."""

    inner: Embedder
    tokens: int = 0
    embedded: int = 0

    @property
    def key(self) -> str:
        return self.inner.key

    def embed(self, text: str) -> Embedding:
        embedding = self.inner.embed(text)
        self.tokens += embedding.tokens
        self.embedded += 1
        return embedding


def run_similar_eval(
    settings: Settings,
    *,
    app_id: str,
    pairs_path: Path,
    out: TextIO,
    runtime: Runtime | None = None,
    k: int = 5,
) -> int:
    """``featurebridge similar-eval``: recall@k of the lexical and the fused search on the
    operator's labelled pairs, with the configured model, and what embedding them cost."""
    if settings.app(app_id) is None:
        return _usage(f"no app {app_id!r} in the configuration")
    try:
        pairs = read_pairs(pairs_path)
    except PairsError as error:
        return _usage(str(error))
    runtime = runtime or build_runtime(settings, queue=CommandQueue())
    if runtime.embedder is None or runtime.vectors is None:
        print(f"featurebridge: {OFF}", file=out)
        return EXIT_PROBLEMS
    counting = _Counting(runtime.embedder)
    measured = replace(runtime, embedder=counting)
    lexical, fused = [], []
    for pair in pairs:
        matches = runtime.store.similar(app_id, pair.title, pair.description, limit=k)
        lexical.append([m.request.number for m in matches])
        found = find_similar(measured, app_id, pair.title, pair.description, limit=k)
        fused.append([m.request.number for m in found])
    originals = [pair.original for pair in pairs]
    unknown = sum(runtime.store.get_request(app_id, n) is None for n in set(originals))
    before, after = recall_at(lexical, originals, k), recall_at(fused, originals, k)
    print(f"{app_id}: {len(pairs)} pairs from {pairs_path}", file=out)
    print(f"recall@{k} lexical: {before:.3f}", file=out)
    print(f"recall@{k} fused:   {after:.3f} ({after - before:+.3f})", file=out)
    print(
        f"embedding the drafts with {counting.key}: {counting.tokens:,} tokens"
        f" ({counting.embedded} of {len(pairs)} embedded)",
        file=out,
    )
    if counting.embedded < len(pairs):
        print("drafts not embedded were ranked lexically (over budget or Bedrock down)", file=out)
    if unknown:
        print(f"{unknown} originals are not requests of {app_id} in the index", file=out)
    return EXIT_OK
