"""Similar requests: which of an app's requests a draft probably duplicates.

``IndexStore.similar(app, title, description, limit=...)`` is the one entry
point (the ``/similar`` route, the widget, the hosted form and the analysis all
call it); this package holds the pure rules both stores share: drafts as search
terms, scores in 0–1, and duplicates pointing to their originals.
"""
