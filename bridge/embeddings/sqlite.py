"""The ``VectorIndex`` on one machine: vectors kept in the SQLite index's file, searched exactly.

Each request's unit vector is a float32 blob in ``request_vectors``, under the
embedder's key (model and dimensions), so vectors of another model are never
compared. Every write takes the app's next sequence number; a search first
reads that number and, when it moved, loads only the vectors written since
into the process's matrix of the app (a second process, or ``reindex``, is
seen the same way). The search itself is one matrix-vector product with
numpy: about 2 ms for 10,000 vectors of 256 dimensions where pure Python takes
about 120 ms, and re-reading the 10 MB of blobs on every search about 150 ms
(``bench/similar.py``). numpy is imported on first use, so it loads only where
embeddings are configured (``pip install 'featurebridge[embeddings]'``). The
tables are this adapter's own (created when first opened), not migrations of
the store's: a bridge without embeddings never has them.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Sequence
from typing import Any

from msgspec import Struct, field

from bridge.embeddings.values import Neighbour
from bridge.ports import VectorStoreError
from bridge.stores.sqlite_base import connect

# Ordinary rowid tables: forget_person walks every table of the file by rowid.
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS request_vectors ("
    " app TEXT NOT NULL, number INTEGER NOT NULL, model TEXT NOT NULL, seq INTEGER NOT NULL,"
    " vector BLOB NOT NULL, PRIMARY KEY (app, number))",
    "CREATE INDEX IF NOT EXISTS request_vectors_seq ON request_vectors (app, seq)",
    "CREATE TABLE IF NOT EXISTS vector_seq (app TEXT PRIMARY KEY, seq INTEGER NOT NULL)",
)
_FLOAT32 = "<f4"


def _numpy() -> Any:
    # One BLAS thread: the product of one query with the app's matrix is a few ms, and
    # OpenBLAS's threads made it 5-6x slower on a busy 2-core machine (bench/similar.py).
    # Read by OpenBLAS when numpy first loads; an operator's own setting wins.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        import numpy
    except ImportError as error:  # pragma: no cover - installed with the extra
        raise VectorStoreError(
            "vectors on SQLite need numpy: pip install 'featurebridge[embeddings]'"
        ) from error
    return numpy


class _Matrix(Struct):
    """One app's vectors of this key as loaded by this process, up to ``seq``."""

    seq: int = 0
    numbers: list[int] = field(default_factory=list)
    rows: dict[int, int] = field(default_factory=dict)  # number -> row of ``vectors``
    vectors: Any = None


class SQLiteVectors:
    """Vectors of ``key`` (the embedder's model and dimensions) in the SQLite file ``path``."""

    def __init__(self, path: str, *, key: str, dimensions: int) -> None:
        self.path = path
        self.key = key
        self.dimensions = dimensions
        self._local = threading.local()
        self._ready = False
        self._lock = threading.Lock()
        self._matrices: dict[str, _Matrix] = {}

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = connect(self.path)
            if not self._ready:
                for statement in SCHEMA:
                    connection.execute(statement)
                self._ready = True
            self._local.connection = connection
        return connection

    def _unit(self, vector: Sequence[float]) -> Any:
        np = _numpy()
        array = np.asarray(vector, dtype=_FLOAT32)
        if array.shape != (self.dimensions,):
            raise VectorStoreError(
                f"a vector of {array.size} numbers where {self.dimensions} were expected"
            )
        norm = float(np.linalg.norm(array))
        return array / norm if norm > 0 else array

    def put(self, app: str, number: int, vector: Sequence[float]) -> None:
        """Keep the request's vector (unit length), replacing any it had."""
        blob = self._unit(vector).astype(_FLOAT32).tobytes()
        connection = self._connection()
        try:
            connection.execute("BEGIN IMMEDIATE")
            try:
                [seq] = connection.execute(
                    "INSERT INTO vector_seq (app, seq) VALUES (?, 1)"
                    " ON CONFLICT (app) DO UPDATE SET seq = seq + 1 RETURNING seq",
                    (app,),
                ).fetchone()
                connection.execute(
                    "INSERT INTO request_vectors (app, number, model, seq, vector)"
                    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (app, number) DO UPDATE SET"
                    " model = excluded.model, seq = excluded.seq, vector = excluded.vector",
                    (app, number, self.key, seq, blob),
                )
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
        except sqlite3.Error as error:
            raise VectorStoreError(f"SQLite write failed: {error}") from error

    def nearest(self, app: str, vector: Sequence[float], *, limit: int) -> list[Neighbour]:
        """The app's ``limit`` nearest vectors by cosine, exactly (every vector compared)."""
        if limit < 1:
            return []
        np = _numpy()
        query = self._unit(vector)
        matrix = self._current(app)
        if not matrix.numbers:
            return []
        similarities = matrix.vectors[: len(matrix.numbers)] @ query
        count = min(limit, len(matrix.numbers))
        best = np.argpartition(-similarities, count - 1)[:count]
        best = best[np.argsort(-similarities[best], kind="stable")]
        return [Neighbour(matrix.numbers[i], float(similarities[i])) for i in best]

    def _current(self, app: str) -> _Matrix:
        """The app's matrix, brought up to the file's sequence number."""
        connection = self._connection()
        try:
            found = connection.execute("SELECT seq FROM vector_seq WHERE app = ?", (app,))
            row = found.fetchone()
            seq = int(row[0]) if row else 0
            with self._lock:
                matrix = self._matrices.get(app) or _Matrix()
                if matrix.seq == seq:
                    return matrix
                changed = connection.execute(
                    "SELECT number, model, vector FROM request_vectors"
                    " WHERE app = ? AND seq > ? ORDER BY seq",
                    (app, matrix.seq if matrix.seq <= seq else 0),
                ).fetchall()
                if matrix.seq > seq or any(
                    r[1] != self.key for r in changed if r[0] in matrix.rows
                ):
                    # The file went back (replaced) or another model took a row: start over.
                    matrix = _Matrix()
                    changed = connection.execute(
                        "SELECT number, model, vector FROM request_vectors WHERE app = ?", (app,)
                    ).fetchall()
                matrix = self._merged(matrix, [(r[0], r[2]) for r in changed if r[1] == self.key])
                matrix.seq = seq
                self._matrices[app] = matrix
                return matrix
        except sqlite3.Error as error:
            raise VectorStoreError(f"SQLite read failed: {error}") from error

    def _merged(self, old: _Matrix, changed: list[tuple[int, bytes]]) -> _Matrix:
        """A new matrix of ``old`` and the ``changed`` rows: searches that hold ``old`` read
        only its own rows, so new rows may share its spare room."""
        np = _numpy()
        matrix = _Matrix(old.seq, list(old.numbers), dict(old.rows), old.vectors)
        fresh = {n for n, _ in changed if n not in matrix.rows}
        size = len(matrix.numbers) + len(fresh)
        vectors = matrix.vectors
        if vectors is None or vectors.shape[0] < size:
            # Room to grow, so a stream of new requests does not copy the matrix each time.
            grown = np.zeros((max(size, 2 * len(matrix.numbers), 64), self.dimensions), _FLOAT32)
            if vectors is not None:
                grown[: len(matrix.numbers)] = vectors[: len(matrix.numbers)]
            vectors = grown
        for number, blob in changed:
            row = matrix.rows.get(number)
            if row is None:
                row = matrix.rows[number] = len(matrix.numbers)
                matrix.numbers.append(number)
            vectors[row] = np.frombuffer(blob, dtype=_FLOAT32)
        matrix.vectors = vectors
        return matrix

    def problem(self, dimensions: int) -> str | None:
        """None: SQLite keeps vectors of any size (those of another key are ignored)."""
        return None
