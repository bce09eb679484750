"""Vectors kept in the SQLite index's file and searched exactly, against real vectors."""

from __future__ import annotations

import math
import os
import random
from pathlib import Path

import pytest

from bridge.embeddings.sqlite import SQLiteVectors
from bridge.ports import VectorStoreError
from bridge.stores.sqlite import SQLiteStore

KEY = "amazon.titan-embed-text-v2:0@8"


def vectors(path: Path, key: str = KEY, dimensions: int = 8) -> SQLiteVectors:
    return SQLiteVectors(str(path), key=key, dimensions=dimensions)


def cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


def test_nearest_is_the_exact_cosine_ranking(tmp_path: Path) -> None:
    rng = random.Random(16)
    index = vectors(tmp_path / "index.db")
    stored = {n: [rng.gauss(0, 1) for _ in range(8)] for n in range(1, 201)}
    for number, vector in stored.items():
        index.put("mobile", number, vector)
    query = [rng.gauss(0, 1) for _ in range(8)]
    found = index.nearest("mobile", query, limit=10)
    expected = sorted(stored, key=lambda n: -cosine(stored[n], query))[:10]
    assert [n.number for n in found] == expected
    for neighbour in found:
        assert neighbour.similarity == pytest.approx(cosine(stored[neighbour.number], query), 1e-5)


def test_apps_and_models_are_kept_apart_and_a_put_replaces(tmp_path: Path) -> None:
    path = tmp_path / "index.db"
    SQLiteStore(path)  # the store's own tables beside the vectors
    index = vectors(path)
    index.put("mobile", 1, [1, 0, 0, 0, 0, 0, 0, 0])
    index.put("web", 2, [1, 0, 0, 0, 0, 0, 0, 0])
    index.put("mobile", 3, [0, 1, 0, 0, 0, 0, 0, 0])
    assert [n.number for n in index.nearest("mobile", [1, 0, 0, 0, 0, 0, 0, 0], limit=5)] == [1, 3]
    index.put("mobile", 1, [0, 0, 1, 0, 0, 0, 0, 0])
    [first, second] = index.nearest("mobile", [0, 1, 0, 0, 0, 0, 0, 0], limit=5)
    assert (first.number, round(first.similarity, 4)) == (3, 1.0)
    assert (second.number, round(second.similarity, 4)) == (1, 0.0)
    # Another model's (or size's) vectors are never compared; a reindex replaces them.
    other = vectors(path, key="cohere.embed-english-v3@8")
    assert other.nearest("mobile", [1, 0, 0, 0, 0, 0, 0, 0], limit=5) == []
    other.put("mobile", 3, [1, 0, 0, 0, 0, 0, 0, 0])
    assert [n.number for n in index.nearest("mobile", [0, 1, 0, 0, 0, 0, 0, 0], limit=5)] == [1]


def test_a_vector_of_the_wrong_size_is_refused(tmp_path: Path) -> None:
    index = vectors(tmp_path / "index.db")
    with pytest.raises(VectorStoreError, match="3 numbers where 8"):
        index.put("mobile", 1, [1, 0, 0])
    assert index.nearest("mobile", [1, 0, 0, 0, 0, 0, 0, 0], limit=0) == []
    assert index.nearest("mobile", [1, 0, 0, 0, 0, 0, 0, 0], limit=3) == []
    assert index.problem(1024) is None


def test_a_search_sees_what_another_process_wrote_since(tmp_path: Path) -> None:
    path = tmp_path / "index.db"
    searcher, writer = vectors(path), vectors(path)  # two processes on one file
    rng = random.Random(7)
    stored: dict[int, list[float]] = {}
    for round_ in range(3):
        for number in range(1, 101):  # new requests, then replaced vectors
            stored[number + round_ * 50] = [rng.gauss(0, 1) for _ in range(8)]
            writer.put("mobile", number + round_ * 50, stored[number + round_ * 50])
        query = [rng.gauss(0, 1) for _ in range(8)]
        found = searcher.nearest("mobile", query, limit=len(stored))
        assert [n.number for n in found] == sorted(stored, key=lambda n: -cosine(stored[n], query))


def test_forget_reads_past_the_vectors(tmp_path: Path) -> None:
    # forget_person walks every table of the file, the vectors' own included.
    path = tmp_path / "index.db"
    store = SQLiteStore(path)
    index = vectors(path)
    index.put("mobile", 1, [1, 0, 0, 0, 0, 0, 0, 0])
    report = store.forget_person("ada@example.com")
    assert report is not None
    assert [n.number for n in index.nearest("mobile", [1, 0, 0, 0, 0, 0, 0, 0], limit=1)] == [1]


def test_numpy_loads_with_one_blas_thread_unless_the_operator_says_otherwise(
    tmp_path: Path,
) -> None:
    import subprocess
    import sys

    probe = (
        "import os\n"
        "from bridge.embeddings.sqlite import _numpy\n"
        "_numpy()\n"
        "print(os.environ['OPENBLAS_NUM_THREADS'])\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}

    def run(extra: dict[str, str]) -> str:
        done = subprocess.run(
            [sys.executable, "-c", probe],
            env={**env, **extra},
            capture_output=True,
            text=True,
            check=True,
            cwd=tmp_path,
        )
        return done.stdout.strip()

    assert run({}) == "1"
    assert run({"OPENBLAS_NUM_THREADS": "4"}) == "4"
