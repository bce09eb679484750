"""What the ``Embedder`` and ``VectorIndex`` ports (:mod:`bridge.ports`) give.

Apart from the ports so that a process without embeddings (a cold start
answering ``/healthz`` or a listing) does not build these classes.
"""

from __future__ import annotations

from msgspec import Struct


class Embedding(Struct, frozen=True):
    """A text's vector (unit length) and what it cost in input tokens."""

    vector: tuple[float, ...]
    tokens: int


class Neighbour(Struct, frozen=True):
    """A request whose vector is near a query's: cosine similarity in −1–1."""

    number: int
    similarity: float
