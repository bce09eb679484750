"""The DynamoDB index's share of the analysis: the request's analysis, shared counters."""

from __future__ import annotations

from datetime import datetime

from bridge.domain import AnalysisRecord
from bridge.stores import dynamodb_items as i
from bridge.stores import dynamodb_table as t
from bridge.stores.analysis_codec import analysis_to_json
from bridge.stores.dynamodb_client import ConditionFailedError, Table


class AnalysisMixin:
    """``record_analysis`` and the counters of :class:`bridge.stores.dynamodb.DynamoDBStore`."""

    _table: Table

    def record_analysis(self, app: str, number: int, record: AnalysisRecord) -> bool:
        """Set the request item's ``analysis`` attribute (nothing else); False when absent."""
        try:
            self._table.update(
                i.key(t.app_pk(app), t.request_sk(number)),
                "SET #analysis = :analysis",
                {":analysis": i.s(analysis_to_json(record))},
                condition="attribute_exists(#pk)",
            )
        except ConditionFailedError:
            return False
        return True

    def add_to_counter(
        self, key: str, amount: int, *, limit: int | None, expires_at: datetime
    ) -> bool:
        """One conditional UpdateItem: every Lambda environment shares the same total."""
        values = {":amount": i.n(amount), ":expires": i.n(i.epoch_seconds(expires_at))}
        condition = None
        if limit is not None and amount > 0:
            if amount > limit:
                return False
            condition = "attribute_not_exists(#value) OR #value <= :room"
            values[":room"] = i.n(limit - amount)
        try:
            self._table.update(
                i.key(t.counter_pk(key), "COUNTER"),
                f"ADD #value :amount SET #{t.TTL_ATTRIBUTE} = :expires",
                values,
                condition=condition,
            )
        except ConditionFailedError:
            return False
        return True

    def read_counter(self, key: str) -> int:
        """The counter's value (a strongly consistent read); 0 when absent."""
        item = self._table.get(i.key(t.counter_pk(key), "COUNTER"))
        return (i.number(item, "value") or 0) if item else 0
