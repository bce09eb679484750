"""Index store adapters, chosen by ``FEATUREBRIDGE_STORE``."""

from __future__ import annotations

from bridge.ports import IndexStore


class StoreUrlError(ValueError):
    """``FEATUREBRIDGE_STORE`` is not a store URL this service understands."""


def open_store(url: str) -> IndexStore:
    """Open ``sqlite:///path.db`` or ``dynamodb://TABLE``."""
    if url.startswith("sqlite:///"):
        from bridge.stores.sqlite import SQLiteStore

        return SQLiteStore(url.removeprefix("sqlite:///"))
    if url.startswith("dynamodb://") and len(url) > len("dynamodb://"):
        from bridge.stores.dynamodb import DynamoDBStore

        return DynamoDBStore(url.removeprefix("dynamodb://"))
    raise StoreUrlError(
        f"FEATUREBRIDGE_STORE={url!r}: use sqlite:///path/to.db or dynamodb://TABLE"
    )
