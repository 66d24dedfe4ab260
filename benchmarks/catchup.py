#!/usr/bin/env python3
"""Catch-up after an outage: 20,000 events read through the paged events-log.

The scenario of tests/gerrit/test_catch_up.py, timed: the daemon and the Gerrit
emulator (SSH stream, REST, events-log plugin, 5,000 events an answer) run in one
process; the bot sees 100 changes, stops, 10,000 reviews are written while it is
down (20,000 events with NoteDb's meta-ref updates), and it starts again. Prints
the time from the restart until every review was handled and no gap is left
(budget: 10 s), the events-log pages read, and the load. The emulator's own work
(serving the pages) runs in the same process and is included.
Run: `python benchmarks/catchup.py [--reviews 10000]`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
from _load import load  # noqa: E402

from govbot.testing.gerrit import FakeClock, GerritEmulator  # noqa: E402
from tests.gerrit.harness import Approver, make_world  # noqa: E402
from tests.gerrit.test_catch_up import (  # noqa: E402
    CATCH_UP,
    START,
    Reviews,
    caught_up,
    reviews,
    running,
    some_changes,
    stop,
)

BUDGET = 10.0


async def measure(count: int) -> tuple[float, int, int]:
    """(seconds from the restart to caught up, events written while down, pages)."""
    with tempfile.TemporaryDirectory(prefix="govbot-catchup-") as tmp:
        async with GerritEmulator(Path(tmp) / "gerrit", clock=FakeClock(START)) as emu:
            world = await make_world(emu, Path(tmp), gerrit_extra=CATCH_UP)
            before = Reviews()
            daemon, task = await running(world, before, Approver())
            changes = await some_changes(world, 100)
            await before.wait_events(100)
            await stop(daemon, task)
            logged = len(emu.events)
            await reviews(world, changes, 0, count, per_second=50, approve_from=count)
            written = len(emu.events) - logged
            after = Reviews()
            started = time.perf_counter()
            daemon, task = await running(world, after, Approver())
            await after.wait(count, timeout=300)
            await caught_up(daemon, timeout=300)
            elapsed = time.perf_counter() - started
            assert daemon.gerrit is not None
            pages = daemon.gerrit.stats().catchup_pages
            await stop(daemon, task)
    return elapsed, written, pages


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reviews", type=int, default=10_000)
    args = ap.parse_args()
    elapsed, written, pages = asyncio.run(measure(args.reviews))
    print(f"{written:,} events written during the outage, read in {pages} catch-up pages; "
          f"{load()}")
    print(f"caught up {elapsed:.2f} s after the restart (budget {BUDGET:.0f} s), "
          f"{written / elapsed:,.0f} events/s, bot and emulator in one process")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
