"""One backoff rule for every retry: feeds, feed polls and Elasticsearch writes."""

from __future__ import annotations

import random

# What a busy HTTP server answers, a feed's host or the cluster alike: worth waiting out and trying again.
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


def backoff_delay(attempt: int, base: float = 1.0, cap: float = 60.0, rng: random.Random | None = None) -> float:
    """Exponential with "equal jitter": between half and all of ``base * 2**(attempt-1)``, capped at ``cap``.

    The jitter spreads retries of many feeds or writers apart; the floor keeps each wait meaningful.
    """
    r = rng or random
    top = min(cap, base * (2 ** max(0, attempt - 1)))
    return top / 2 + r.random() * top / 2
