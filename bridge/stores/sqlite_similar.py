"""Similar requests on SQLite: FTS5 over titles and descriptions, ranked by BM25."""

from __future__ import annotations

from bridge.domain import Request
from bridge.ports import SimilarMatch
from bridge.similar.originals import with_originals
from bridge.similar.terms import (
    DESCRIPTION_WEIGHT,
    TITLE_WEIGHT,
    blended_score,
    draft_terms,
    match_expression,
)
from bridge.stores.sqlite_base import SQLiteBase
from bridge.stores.sqlite_rows import request_of_row

# Extra rows read beyond ``limit``, so that duplicates folded into their
# originals still leave a full answer.
_SLACK = 5

# The FTS5 index drives the join (CROSS JOIN keeps that order): the app filter
# applies to matching rows only, never to a scan of the app's requests.
_SEARCH = (
    "SELECT requests.*, bm25(request_search, ?, ?) AS rank"
    " FROM request_search"
    " CROSS JOIN request_text ON request_text.id = request_search.rowid"
    " CROSS JOIN requests ON requests.app = request_text.app"
    " AND requests.number = request_text.number"
    " WHERE request_search MATCH ? AND request_text.app = ?"
    " ORDER BY rank LIMIT ?"
)


class SimilarMixin(SQLiteBase):
    """``similar``: the search behind ``/similar``, the widget, the form and the analysis."""

    def similar(
        self, app: str, title: str, description: str = "", *, limit: int = 5
    ) -> list[SimilarMatch]:
        """The app's requests most like the draft, by BM25 (title weighted above body).

        FTS5 finds and ranks the candidates; each scores ``blended_score`` (BM25
        and title overlap), best first; duplicates show their originals.
        """
        terms = draft_terms(title, description)
        if not terms or limit < 1:
            return []
        rows = self._read(
            _SEARCH,
            (TITLE_WEIGHT, DESCRIPTION_WEIGHT, match_expression(terms), app, limit + _SLACK),
        )
        matches = [
            SimilarMatch(request, blended_score(row["rank"], terms, request.title))
            for request, row in ((request_of_row(row), row) for row in rows)
        ]
        return with_originals(matches, lambda number: self._original(app, number), limit=limit)

    def _original(self, app: str, number: int) -> Request | None:
        rows = self._read("SELECT * FROM requests WHERE app = ? AND number = ?", (app, number))
        return request_of_row(rows[0]) if rows else None

    def similar_mode(self) -> str:
        """Full-text search."""
        return "fts"

    def description(self, app: str, number: int) -> str | None:
        """The searchable description of an indexed request; None when it is not indexed."""
        rows = self._read(
            "SELECT coalesce(request_text.description, '') AS description FROM requests"
            " LEFT JOIN request_text ON request_text.app = requests.app"
            " AND request_text.number = requests.number"
            " WHERE requests.app = ? AND requests.number = ?",
            (app, number),
        )
        return str(rows[0]["description"]) if rows else None

    def described(self, app: str) -> set[int]:
        """Numbers whose searchable text has a description."""
        rows = self._read(
            "SELECT number FROM request_text WHERE app = ? AND description != ''", (app,)
        )
        return {row["number"] for row in rows}
