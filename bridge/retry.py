"""When to try GitHub again: exponential backoff with jitter, honouring GitHub's hints."""

from __future__ import annotations

import random
from collections.abc import Callable

BASE_DELAY_SECONDS = 2.0
MAX_DELAY_SECONDS = 15 * 60.0


def retry_delay(
    attempts: int,
    retry_after: float | None = None,
    *,
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait after ``attempts`` failed attempts.

    Doubling from 2 s up to 15 min, each delay drawn from its upper half so
    that many submissions failing together do not retry in lockstep; never
    sooner than GitHub's own ``Retry-After`` or rate-limit reset.
    """
    ceiling = min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2 ** max(attempts - 1, 0))
    delay = ceiling * (0.5 + rand() / 2)
    return float(max(delay, retry_after or 0.0))
