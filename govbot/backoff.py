"""One backoff policy for every retry loop: Gerrit's stream, REST and votes, and IRC."""

from __future__ import annotations

import random


def backoff(failures: int, low: float, high: float, rng: random.Random | None = None) -> float:
    """Seconds to wait after `failures` consecutive failures (1 for the first).

    Exponential, capped at `high`, with "equal jitter": half fixed, half random. The
    jitter keeps many bots (or one bot's restarts) from retrying in lockstep after an
    outage; the fixed half keeps a lower bound on the wait.
    """
    ceiling = min(high, low * 2.0 ** min(max(failures - 1, 0), 30))
    jitter: float = (rng or random).uniform(0, ceiling / 2)
    return ceiling / 2 + jitter
