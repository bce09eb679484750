"""Semantic similarity: each request embedded by Amazon Bedrock, its vector kept for search.

``bedrock`` is the ``Embedder`` adapter (Titan Text Embeddings V2 through
``InvokeModel``), ``job`` embeds a request after delivery and on edits (with the
analysis's retry and daily budget), ``sqlite`` and ``s3vectors`` are the
``VectorIndex`` adapters (one machine, AWS). ``bridge.similar.search`` fuses
the vectors' ranking with the lexical one.
"""
