"""Logs as JSON lines: one event per line, with the context it happened in.

The standard library's ``logging`` with a small formatter: it imports in about
2 ms, where a logging framework costs 150-200 ms of every Lambda cold start.
Context (request id, webhook delivery id, app, submission id, issue number) is
bound for the span of a request or a job with :func:`context`; fields passed as
``extra=`` join their own line. Nothing private is ever put in either: ids,
numbers, names of things and durations, never a title, an email or a token.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import IO, Any

_CONTEXT: ContextVar[dict[str, Any] | None] = ContextVar("featurebridge_log_context", default=None)
# A LogRecord's own attributes: anything else on a record came from ``extra=``.
_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, context, extras."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        stamp = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        line: dict[str, Any] = {
            "time": stamp.replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(_CONTEXT.get() or {})
        line.update(
            (key, value) for key, value in vars(record).items() if key not in _RECORD_FIELDS
        )
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def configure(level: int = logging.INFO, stream: IO[str] | None = None) -> None:
    """Every log line as JSON on ``stream`` (stderr), at ``level`` and above.

    On Lambda the runtime has already installed a handler on the root logger
    (its lines reach CloudWatch): it keeps it and gives it this formatter.
    """
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler(stream or sys.stderr))
    for handler in root.handlers:
        handler.setFormatter(JsonFormatter())
    root.setLevel(level)


def bind(**fields: Any) -> Token[dict[str, Any] | None]:
    """Add ``fields`` to every line logged in this context until :func:`unbind`."""
    present = {key: value for key, value in fields.items() if value is not None}
    return _CONTEXT.set({**(_CONTEXT.get() or {}), **present})


def unbind(token: Token[dict[str, Any] | None]) -> None:
    """Restore the context :func:`bind` replaced."""
    _CONTEXT.reset(token)


@contextmanager
def context(**fields: Any) -> Iterator[None]:
    """``fields`` on every line logged inside the ``with`` block."""
    token = bind(**fields)
    try:
        yield
    finally:
        unbind(token)
