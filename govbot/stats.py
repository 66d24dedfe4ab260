"""Latency histograms that components keep themselves and `/metrics` reads.

Plain counters, no prometheus_client here: a component records what it measured,
govbot.metrics turns the numbers into metric families at scrape time.
"""

from __future__ import annotations

import bisect
from collections import OrderedDict

#: Seconds; from a fast REST call to a vote held back by a Gerrit outage.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
                   300.0)


class Histogram:
    """Cumulative-bucket histogram: `buckets()` gives (upper bound, count) pairs."""

    def __init__(self, bounds: tuple[float, ...] = LATENCY_BUCKETS) -> None:
        self.bounds = bounds
        self._counts = [0] * (len(bounds) + 1)
        self.count = 0
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self._counts[bisect.bisect_left(self.bounds, value)] += 1
        self.count += 1
        self.sum += value

    def buckets(self) -> list[tuple[str, int]]:
        total, found = 0, []
        for bound, n in zip((*map(str, self.bounds), "+Inf"), self._counts, strict=True):
            total += n
            found.append((bound, total))
        return found


class Arrivals:
    """When each recent event arrived (monotonic seconds), bounded: an event whose
    decision never comes (no vote needed) must not be kept forever."""

    def __init__(self, limit: int = 10_000) -> None:
        self._limit = limit
        self._seen: OrderedDict[str, float] = OrderedDict()

    def mark(self, event_id: str, at: float) -> None:
        self._seen.setdefault(event_id, at)
        while len(self._seen) > self._limit:
            self._seen.popitem(last=False)

    def get(self, event_id: str) -> float | None:
        return self._seen.get(event_id)
