"""Reciprocal-rank fusion: pure rules, and the guarantee that vectors carrying no
information (all equal) never rank a held-out draft's original below lexical."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bridge.app import build_runtime
from bridge.domain import Request, Source, Status
from bridge.embeddings.sqlite import SQLiteVectors
from bridge.embeddings.values import Embedding
from bridge.settings import Settings
from bridge.similar.evaluation import PairsError, read_pairs, recall_at
from bridge.similar.fusion import RRF_K, certain_head, competition_ranks, fuse
from bridge.similar.search import find_similar
from bridge.stores.sqlite import SQLiteStore
from tests.fakes import FakeClock, FakeTracker, RecordingQueue

EVAL = Path(__file__).resolve().parent.parent / "bench" / "data" / "similar_eval.json"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_competition_ranks_share_ties_to_four_places() -> None:
    assert competition_ranks([0.9, 0.8, 0.8, 0.7]) == [1, 2, 2, 4]
    assert competition_ranks([0.5, 0.50000001, 0.5]) == [1, 1, 1]
    assert competition_ranks([]) == []


def test_fuse_needs_no_common_scale_and_scores_in_0_1() -> None:
    lexical = [(1, 40.0), (2, 30.0), (3, 1.0)]  # BM25-like scale
    semantic = [(3, 0.99), (1, 0.98), (4, 0.5)]  # cosines
    fused = fuse(lexical, semantic)
    assert [number for number, _ in fused] == [1, 3, 2, 4]
    assert fused[0][1] == round((1 / (RRF_K + 1) + 1 / (RRF_K + 2)) * (RRF_K + 1) / 2, 4)
    assert all(0 < score <= 1 for _, score in fused)
    assert fuse([(7, 1.0)], [(7, 0.3)]) == [(7, 1.0)]
    # Scaling one ranking's scores changes nothing.
    assert fuse([(n, s * 1000) for n, s in lexical], semantic) == fused


def test_a_ranking_of_ties_leaves_the_lexical_order() -> None:
    lexical = [(5, 0.9), (2, 0.4), (9, 0.4), (1, 0.1)]
    semantic = [(n, 0.3) for n in (1, 9, 8, 2, 5)]
    assert [n for n, _ in fuse(lexical, semantic)] == [5, 2, 9, 1, 8]


def test_a_cut_ranking_loses_the_items_tied_with_its_last() -> None:
    cut = [(1, 0.9), (2, 0.7), (3, 0.5), (4, 0.50001)]
    assert certain_head(cut, cut=4) == [(1, 0.9), (2, 0.7)]
    assert certain_head(cut, cut=5) == cut  # not cut: every vector was compared
    assert certain_head([(n, 0.3) for n in range(20)], cut=20) == []
    assert certain_head([], cut=20) == []


# ------------------------------------------------------------------ the held-out half


class EqualVectors:
    """An embedder whose every vector is the same: it carries no information."""

    key = "equal@4"

    def embed(self, text: str) -> Embedding:
        return Embedding((0.5, 0.5, 0.5, 0.5), 3)


@dataclass(frozen=True)
class Draft:
    app: str
    title: str
    description: str
    original: int


@pytest.mark.parametrize("board", ["own", "with_other_products"])
def test_equal_vectors_never_rank_below_lexical_on_the_holdout_half(
    make_settings: Callable[..., Settings],
    tmp_path: Path,
    tracker: FakeTracker,
    clock: FakeClock,
    board: str,
) -> None:
    # "with_other_products": each app also holds every other product's requests, filed
    # (and embedded) first, so an app has far more vectors than the nearest ones asked for.
    path = tmp_path / "eval.db"
    store = SQLiteStore(path)
    vectors = SQLiteVectors(str(path), key=EqualVectors.key, dimensions=4)
    runtime = build_runtime(
        make_settings(),
        store=store,
        tracker=tracker,
        queue=RecordingQueue(),
        clock=clock,
        embedder=EqualVectors(),
        vectors=vectors,
    )
    drafts: list[Draft] = []
    products = json.loads(EVAL.read_text(encoding="utf-8"))["products"]
    for product in products:
        app = product["product"]
        others = [
            item
            for other in products
            if other is not product and board == "with_other_products"
            for item in other["requests"]
        ]
        filed = [*others, *product["requests"]]
        numbers = {item["id"]: n for n, item in enumerate(filed, start=1)}
        for item in filed:
            number = numbers[item["id"]]
            store.upsert_request(
                Request(
                    app=app,
                    number=number,
                    title=item["title"],
                    status=Status.OPEN,
                    url=f"https://github.com/acme/{app}/issues/{number}",
                    labels=("feature-request",),
                    source=Source.GITHUB,
                    created_at=T0,
                    updated_at=T0,
                    description=item["description"],
                )
            )
            vectors.put(app, number, (0.5, 0.5, 0.5, 0.5))
        drafts += [
            Draft(app, d["title"], d["description"], numbers[d["original"]])
            for d in product["drafts"]
            if d["split"] == "holdout"
        ]
    assert len(drafts) == 30
    lexical_rankings, fused_rankings = [], []
    for draft in drafts:
        lexical = [
            m.request.number
            for m in store.similar(draft.app, draft.title, draft.description, limit=10)
        ]
        fused = [
            m.request.number
            for m in find_similar(runtime, draft.app, draft.title, draft.description, limit=10)
        ]
        assert fused[: len(lexical)] == lexical, draft
        if draft.original in lexical:
            assert fused.index(draft.original) <= lexical.index(draft.original)
        lexical_rankings.append(lexical)
        fused_rankings.append(fused)
    originals = [draft.original for draft in drafts]
    for k in (1, 5, 10):
        assert recall_at(fused_rankings, originals, k) >= recall_at(lexical_rankings, originals, k)


def test_pairs_are_read_from_json_lines(tmp_path: Path) -> None:
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(
        '{"title": "Night theme", "original": 1}\n\n'
        '{"title": "PDF", "description": "for my boss", "original": 2}\n',
        encoding="utf-8",
    )
    assert [(p.title, p.description, p.original) for p in read_pairs(pairs)] == [
        ("Night theme", "", 1),
        ("PDF", "for my boss", 2),
    ]
    assert recall_at([[3, 1], [2]], [1, 2], 1) == 0.5


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json\n",
        '{"title": "x"}\n',
        '{"title": "", "original": 1}\n',
        "[1]\n",
        '{"title": "x", "original": true}\n',
    ],
)
def test_a_bad_pairs_file_says_which_line(tmp_path: Path, text: str) -> None:
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(text, encoding="utf-8")
    with pytest.raises(PairsError, match=r"pairs\.jsonl"):
        read_pairs(pairs)
