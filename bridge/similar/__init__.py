"""Similar requests: which of an app's requests a draft probably duplicates.

``bridge.similar.search.find_similar`` is the one entry point (the ``/similar``
route, which the widget and the hosted form call, and the analysis): the
store's lexical ``IndexStore.similar``, fused with embeddings where they are
configured. This package also holds the pure rules both stores share: drafts
as search terms, scores in 0–1, and duplicates pointing to their originals.
"""
