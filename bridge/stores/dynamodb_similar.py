"""Similar requests on DynamoDB, which has no full-text search: a bounded title match.

One query of the app's ``top`` index (most-voted first) filtered to titles
containing any of the draft's first terms, reading at most ``MAX_EVALUATED``
items (about 70 RCU), then ranked by word overlap
(:func:`bridge.similar.terms.overlap_score`). ``/healthz`` reports it as
``similar: "basic"``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bridge.domain import Request, SortOrder
from bridge.ports import SimilarMatch
from bridge.similar.originals import with_originals
from bridge.similar.terms import draft_terms, overlap_score
from bridge.stores import dynamodb_items as i
from bridge.stores import dynamodb_table as t
from bridge.stores.dynamodb_client import Table, names

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import QueryInputTypeDef

    from bridge.stores.dynamodb_items import Item

MAX_EVALUATED = 1000
# Terms sent as ``contains`` filters (DynamoDB allows 300 operators; few are enough).
_FILTER_TERMS = 8


class SimilarMixin:
    """``similar`` of :class:`bridge.stores.dynamodb.DynamoDBStore`."""

    _table: Table

    def similar(
        self, app: str, title: str, description: str = "", *, limit: int = 5
    ) -> list[SimilarMatch]:
        """The app's requests whose titles share the most words with the draft."""
        terms = draft_terms(title, description)
        if not terms or limit < 1:
            return []
        stems = list(dict.fromkeys(term.removesuffix("s") or term for term in terms))
        stems = stems[:_FILTER_TERMS]
        condition = "#pk = :pk"
        words = " OR ".join(f"contains(#title_folded, :w{n})" for n in range(len(stems)))
        values: Item = {":pk": i.s(t.app_pk(app))}
        values.update({f":w{n}": i.s(stem) for n, stem in enumerate(stems)})
        params: QueryInputTypeDef = {
            "TableName": self._table.name,
            "IndexName": t.LISTING_INDEXES[SortOrder.TOP][0],
            "KeyConditionExpression": condition,
            "FilterExpression": words,
            "ScanIndexForward": False,
            "Limit": MAX_EVALUATED,
            "ExpressionAttributeNames": names(condition, words),
            "ExpressionAttributeValues": values,
        }
        found: list[Item] = []
        evaluated = 0
        while evaluated < MAX_EVALUATED:
            items, start, scanned = self._table.query(params)
            found.extend(items)
            evaluated += scanned
            if start is None:
                break
            params["ExclusiveStartKey"] = start
            params["Limit"] = MAX_EVALUATED - evaluated
        matches = [
            SimilarMatch(request, overlap_score(terms, request.title))
            for request in map(i.request_of, found)
        ]
        matches = [match for match in matches if match.score > 0]
        return with_originals(matches, lambda number: self._original(app, number), limit=limit)

    def _original(self, app: str, number: int) -> Request | None:
        item = self._table.get(i.key(t.app_pk(app), t.request_sk(number)), consistent=False)
        return i.request_of(item) if item is not None else None

    def similar_mode(self) -> str:
        """A bounded title-word match: DynamoDB has no full-text search."""
        return "basic"

    def description(self, app: str, number: int) -> str | None:
        """The request's description item's text; None when the request is not indexed."""
        pk = t.app_pk(app)
        if self._table.get(i.key(pk, t.request_sk(number)), consistent=False) is None:
            return None
        item = self._table.get(i.key(pk, t.text_sk(number)), consistent=False)
        return item["description"]["S"] if item is not None else ""

    def described(self, app: str) -> set[int]:
        """Numbers whose description item holds text (keys only leave the table)."""
        condition = "#pk = :pk AND begins_with(#sk, :text)"
        nonempty = "size(#description) > :zero"
        params: QueryInputTypeDef = {
            "TableName": self._table.name,
            "KeyConditionExpression": condition,
            "FilterExpression": nonempty,
            "ProjectionExpression": "#sk",
            "ExpressionAttributeNames": names(condition, nonempty),
            "ExpressionAttributeValues": {
                ":pk": i.s(t.app_pk(app)),
                ":text": i.s(t.TEXT_PREFIX),
                ":zero": {"N": "0"},
            },
        }
        numbers: set[int] = set()
        while True:
            items, start, _ = self._table.query(params)
            numbers.update(int(item["sk"]["S"].removeprefix(t.TEXT_PREFIX)) for item in items)
            if start is None:
                return numbers
            params["ExclusiveStartKey"] = start
