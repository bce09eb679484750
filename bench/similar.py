"""Similar-request search: quality on the frozen evaluation set, and its cost.

    .venv/bin/python bench/similar.py [--requests N] [--queries N] [--split holdout|tune]

Quality: each product of ``bench/data/similar_eval.json`` becomes an app in
one SQLite index (its existing requests, hard negatives included); every draft
of the chosen half (default ``holdout``, the half no ranking choice looked at)
asks ``store.similar()``, ``find_similar()`` fused with vectors that carry no
information (all equal: it must not rank below lexical) and, in the same run, a
plain title-word-overlap baseline (Jaccard of the two titles' lower-cased word sets, no stemming, no
stopwords, ties to the older request). Prints recall@1, recall@5 and MRR (rank
of the draft's original among the first 10; absent counts 0) for both.

Cost: one app holding ``--requests`` synthetic requests (words drawn from the
evaluation set's vocabulary with a Zipf-like skew, titles of 3-8 words,
descriptions of 10-60), then ``--queries`` drafts timed in-process: the whole
``store.similar()`` (terms, FTS5 query, rows as requests, duplicates folded)
beside a bare ``SELECT rowid ... MATCH ? ORDER BY bm25(...) LIMIT ?`` on the
same FTS5 table with the same match expression. Prints p50 and p95 of each and
the p95 ratio.
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import operator
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bridge.app import build_runtime  # noqa: E402
from bridge.domain import Request, Source, Status  # noqa: E402
from bridge.embeddings.sqlite import SQLiteVectors  # noqa: E402
from bridge.embeddings.values import Embedding  # noqa: E402
from bridge.runtime import Runtime  # noqa: E402
from bridge.settings import Settings  # noqa: E402
from bridge.similar.terms import draft_terms, match_expression  # noqa: E402
from bridge.stores.sqlite import SQLiteStore  # noqa: E402

DATA = Path(__file__).resolve().parent / "data" / "similar_eval.json"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
DEPTH = 10
DIMENSIONS = 256
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Draft:
    app: str
    title: str
    description: str
    original: int  # the original's number in its app


def request_of(app: str, number: int, title: str, description: str) -> Request:
    return Request(
        app=app,
        number=number,
        title=title,
        status=Status.OPEN,
        url=f"https://github.com/acme/{app}/issues/{number}",
        labels=("feature-request",),
        source=Source.GITHUB,
        created_at=T0,
        updated_at=T0,
        description=description,
    )


def load(store: SQLiteStore, split: str) -> tuple[list[Draft], dict[str, list[Request]]]:
    """Index every product's requests; the drafts of ``split`` with their originals."""
    data = json.loads(DATA.read_text(encoding="utf-8"))
    drafts: list[Draft] = []
    corpus: dict[str, list[Request]] = {}
    for product in data["products"]:
        app = product["product"]
        numbers = {item["id"]: n for n, item in enumerate(product["requests"], start=1)}
        corpus[app] = [
            request_of(app, numbers[item["id"]], item["title"], item["description"])
            for item in product["requests"]
        ]
        for request in corpus[app]:
            store.upsert_request(request)
        drafts += [
            Draft(app, d["title"], d["description"], numbers[d["original"]])
            for d in product["drafts"]
            if d["split"] == split
        ]
    return drafts, corpus


def title_overlap(draft: Draft, candidates: Sequence[Request]) -> list[int]:
    """The baseline: candidates by Jaccard of title word sets, ties to the lower number."""
    wanted = set(_WORD.findall(draft.title.lower()))
    scored = []
    for candidate in candidates:
        words = set(_WORD.findall(candidate.title.lower()))
        union = wanted | words
        score = len(wanted & words) / len(union) if union else 0.0
        if score > 0:
            scored.append((-score, candidate.number))
    return [number for _, number in sorted(scored)][:DEPTH]


def quality(ranked: Callable[[Draft], list[int]], drafts: Sequence[Draft]) -> dict[str, float]:
    hits1 = hits5 = 0
    reciprocal = 0.0
    for draft in drafts:
        numbers = ranked(draft)
        if draft.original in numbers[:1]:
            hits1 += 1
        if draft.original in numbers[:5]:
            hits5 += 1
        if draft.original in numbers:
            reciprocal += 1 / (numbers.index(draft.original) + 1)
    count = len(drafts)
    return {"recall@1": hits1 / count, "recall@5": hits5 / count, "MRR": reciprocal / count}


def synthetic(vocabulary: Sequence[str], count: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    weights = [1 / (rank + 1) for rank in range(len(vocabulary))]

    def words(low: int, high: int) -> str:
        return " ".join(rng.choices(vocabulary, weights, k=rng.randint(low, high)))

    return [(words(3, 8).capitalize(), words(10, 60)) for _ in range(count)]


def percentile(samples: Sequence[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def cost(tmp: Path, requests: int, queries: int) -> None:
    data = json.loads(DATA.read_text(encoding="utf-8"))
    texts = [
        f"{item['title']} {item['description']}"
        for product in data["products"]
        for item in (*product["requests"], *product["drafts"])
    ]
    counts: dict[str, int] = {}
    for text in texts:
        for word in _WORD.findall(text.lower()):
            counts[word] = counts.get(word, 0) + 1
    vocabulary = sorted(counts, key=lambda w: (-counts[w], w))
    store = SQLiteStore(tmp / "cost.db")
    started = time.perf_counter()
    for number, (title, description) in enumerate(synthetic(vocabulary, requests, 1), start=1):
        store.upsert_request(request_of("big", number, title, description))
    seeded = time.perf_counter() - started
    runtime, vectors, stored = fused_runtime(tmp, store, requests)
    drafts = synthetic(vocabulary, queries, 2)
    db = sqlite3.connect(tmp / "cost.db")
    bare_sql = (
        "SELECT rowid FROM request_search WHERE request_search MATCH ?"
        " ORDER BY bm25(request_search) LIMIT ?"
    )
    from bridge.similar.search import find_similar

    calls: dict[str, Callable[[str, str], object]] = {
        "store.similar()": lambda t, d: store.similar("big", t, d, limit=5),
        "bare FTS5 MATCH ORDER BY bm25": lambda t, d: db.execute(
            bare_sql, (match_expression(draft_terms(t, d)), 5)
        ).fetchall(),
        "find_similar() fused": lambda t, d: find_similar(runtime, "big", t, d, limit=5),
        "SQLiteVectors.nearest() (numpy)": lambda t, d: vectors.nearest(
            "big", FixedEmbedder().embed(t).vector, limit=20
        ),
    }
    samples: dict[str, list[float]] = {name: [] for name in calls}
    # Interleaved per draft, so the machine's other load weighs on each alike.
    for title, description in drafts:
        for name, call in calls.items():
            begin = time.perf_counter()
            call(title, description)
            samples[name].append(time.perf_counter() - begin)
    pure = pure_python_nearest(stored)
    print(f"\ncost: one app of {requests:,} requests (seeded in {seeded:.1f} s), {queries} drafts;")
    print(f"fused with {requests:,} vectors of {DIMENSIONS} dimensions (Bedrock's call left out)")
    print(f"{'':34}{'p50 ms':>10}{'p95 ms':>10}")
    for name, timings in samples.items():
        p50, p95 = percentile(timings, 0.5) * 1000, percentile(timings, 0.95) * 1000
        print(f"{name:34}{p50:>10.2f}{p95:>10.2f}")
    print(f"{'exact cosine in pure Python':34}{pure * 1000:>10.2f}")
    bare = percentile(samples["bare FTS5 MATCH ORDER BY bm25"], 0.95)
    for name in ("store.similar()", "find_similar() fused"):
        ratio = percentile(samples[name], 0.95) / bare
        mean = statistics.mean(samples[name]) * 1000
        print(f"p95 ratio {name}/bare: {ratio:.2f} (goal <= 2); mean {mean:.2f} ms")


class FixedEmbedder:
    """Bedrock's part left out (no network here): each text's vector drawn from its hash."""

    key = "bench@256"

    def embed(self, text: str) -> Embedding:
        rng = random.Random(text)
        return Embedding(tuple(rng.gauss(0, 1) for _ in range(DIMENSIONS)), len(text) // 4)


class EqualEmbedder:
    """Vectors that carry no information: every text's is the same."""

    key = "equal@4"

    def embed(self, text: str) -> Embedding:
        return Embedding((0.5, 0.5, 0.5, 0.5), len(text) // 4)


def bench_settings(tmp: Path) -> Settings:
    config = tmp / "bench.toml"
    config.write_text(
        '[[apps]]\nid = "big"\nname = "Big"\nrepo = "acme/big"\nlabels = ["fr"]\n',
        encoding="utf-8",
    )
    return Settings.from_env({"FEATUREBRIDGE_CONFIG": str(config)})


def fused_runtime(
    tmp: Path, store: SQLiteStore, requests: int
) -> tuple[Runtime, SQLiteVectors, list[list[float]]]:
    """A runtime whose search fuses ``requests`` random vectors kept beside the index."""
    vectors = SQLiteVectors(str(tmp / "cost.db"), key=FixedEmbedder.key, dimensions=DIMENSIONS)
    rng = random.Random(3)
    stored = [[rng.gauss(0, 1) for _ in range(DIMENSIONS)] for _ in range(requests)]
    for number, vector in enumerate(stored, start=1):
        vectors.put("big", number, vector)
    runtime = build_runtime(
        bench_settings(tmp), store=store, queue=NoQueue(), embedder=FixedEmbedder(), vectors=vectors
    )
    return runtime, vectors, stored


def equal_runtime(tmp: Path, store: SQLiteStore, corpus: dict[str, list[Request]]) -> Runtime:
    """A runtime whose search fuses the evaluation set's requests with equal vectors."""
    vectors = SQLiteVectors(str(tmp / "eval.db"), key=EqualEmbedder.key, dimensions=4)
    for app, requests in corpus.items():
        for request in requests:
            vectors.put(app, request.number, (0.5, 0.5, 0.5, 0.5))
    return build_runtime(
        bench_settings(tmp), store=store, queue=NoQueue(), embedder=EqualEmbedder(), vectors=vectors
    )


def pure_python_nearest(stored: Sequence[Sequence[float]]) -> float:
    """Seconds for one exact top-20 cosine search of unit vectors without numpy."""
    units = [[x / math.sqrt(sum(v * v for v in vector)) for x in vector] for vector in stored]
    query = units[0]
    begin = time.perf_counter()
    for _ in range(5):
        heapq.nlargest(20, range(len(units)), key=lambda n: sum(map(operator.mul, query, units[n])))
    return (time.perf_counter() - begin) / 5


class NoQueue:
    """Nothing is queued by a search."""

    def enqueue(self, job: object, *, delay_seconds: float = 0) -> None:
        raise AssertionError("a search queues nothing")

    def depth(self) -> int | None:
        return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=1_000)
    parser.add_argument("--split", choices=("holdout", "tune"), default="holdout")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        store = SQLiteStore(tmp / "eval.db")
        drafts, corpus = load(store, args.split)

        def ours(draft: Draft) -> list[int]:
            found = store.similar(draft.app, draft.title, draft.description, limit=DEPTH)
            return [match.request.number for match in found]

        from bridge.similar.search import find_similar

        equal = equal_runtime(tmp, store, corpus)

        def fused_equal(draft: Draft) -> list[int]:
            found = find_similar(equal, draft.app, draft.title, draft.description, limit=DEPTH)
            return [match.request.number for match in found]

        def baseline(draft: Draft) -> list[int]:
            return title_overlap(draft, corpus[draft.app])

        print(f"quality: {len(drafts)} drafts of the {args.split} half, {len(corpus)} products")
        print(f"{'':28}{'recall@1':>10}{'recall@5':>10}{'MRR':>8}")
        results = {
            "store.similar()": quality(ours, drafts),
            "fused, all-equal vectors": quality(fused_equal, drafts),
            "title-word overlap": quality(baseline, drafts),
        }
        for name, figures in results.items():
            print(
                f"{name:28}{figures['recall@1']:>10.3f}{figures['recall@5']:>10.3f}"
                f"{figures['MRR']:>8.3f}"
            )
        gain = results["store.similar()"]["recall@5"] - results["title-word overlap"]["recall@5"]
        print(f"recall@5 over the baseline: {gain:+.3f} (goal >= +0.15)")
        lexical, fused = results["store.similar()"], results["fused, all-equal vectors"]
        worst = min(fused[name] - lexical[name] for name in lexical)
        print(f"fused with all-equal vectors minus lexical, worst figure: {worst:+.3f} (goal >= 0)")
        cost(tmp, args.requests, args.queries)
    return 0


if __name__ == "__main__":
    sys.exit(main())
