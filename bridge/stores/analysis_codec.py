"""An ``AnalysisRecord`` as the JSON text both stores keep on the request."""

from __future__ import annotations

import json

from bridge.domain import AnalysisRecord
from bridge.timeutil import parse_iso, to_sortable


def analysis_to_json(record: AnalysisRecord) -> str:
    """The record as compact JSON text."""
    return json.dumps(
        {
            "model_id": record.model_id,
            "analysed_at": to_sortable(record.analysed_at),
            "fields": dict(record.fields),
            "error": record.error,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def analysis_from_json(text: str | None) -> AnalysisRecord | None:
    """The inverse of :func:`analysis_to_json`; None for no text."""
    if not text:
        return None
    data = json.loads(text)
    return AnalysisRecord(
        model_id=data["model_id"],
        analysed_at=parse_iso(data["analysed_at"]),
        fields=data.get("fields") or {},
        error=data.get("error"),
    )
