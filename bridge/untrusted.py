"""Reading what clients send: JSON of any depth and integers of any size, as plain errors."""

from __future__ import annotations

import json
from typing import Any

# SQLite integers (and so request numbers, votes and cursor positions) are signed 64-bit.
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
# Unicode White_Space spelled out: `\s` is another set in Python's re, in pydantic's Rust
# regex and in ECMA-262 (the OpenAPI's patterns), so patterns a client sees name these.
SPACE = r"\t\n\x0b\f\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# Some character other than space: a text that is not blank.
NOT_BLANK = rf"[^{SPACE}]"


def _reject_constant(name: str) -> None:
    # NaN and Infinity are not JSON; Python's parser accepts them unless told not to.
    raise ValueError(f"{name} is not valid JSON")


def loads(text: str | bytes) -> Any:
    """Parse JSON; ValueError for anything that is not JSON, nested too deeply included."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError as error:
        raise ValueError("JSON is nested too deeply") from error


def is_int64(value: object) -> bool:
    """Whether ``value`` is an int (not a bool) that a signed 64-bit column holds."""
    return (
        isinstance(value, int) and not isinstance(value, bool) and INT64_MIN <= value <= INT64_MAX
    )
