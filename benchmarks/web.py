#!/usr/bin/env python3
"""The web pages at scale: the board with 500 / 5,000 / 20,000 open changes (budget for
5,000: < 300 ms), and a full-text search over 1,000 meetings of 500 lines each.

Board: the state database (a real SQLite file) holds one remembered summary per open
change, as the governance plugin writes them: real verdicts of the example config's
rules on synthetic changes (formal votes, charter changes, documentation changes with a
few votes each). One render is what `GET /` does: one state read of every board row,
the filters, the grouping and the Jinja2 page; the "waiting on" view and `/api/changes`
are timed too. Best of 5 after a warm-up. No Gerrit is involved: that is the point.

Search: 1,000 meetings' text logs of 500 lines (a vocabulary of 2,000 words, each
meeting's `#agreed` lines) indexed through the core's minutes library (FTS5 in the
state database), then a rare word, a common word and a phrase searched, median of 20.
Prints the machine's load. Run: `python benchmarks/web.py [--changes 500,5000,20000]`.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from govbot.config.loader import load_config
from govbot.context import PluginContext
from govbot.extensions import WebRequest
from govbot.plugin import PluginRegistry
from govbot.plugin_loader import load_plugins
from govbot.plugins.governance.ballot import PeopleIndex
from govbot.plugins.governance.change import Account, ChangeState, Vote
from govbot.plugins.governance.evaluate import evaluate
from govbot.plugins.governance.message import fingerprint, render
from govbot.plugins.governance.model import RulesConfig
from govbot.plugins.governance.summary import board_row, dumps, key_of, row_key, summarize
from govbot.plugins.governance.web.routes import board_page, changes_api
from govbot.state.search import MinutesIndex
from govbot.state.store import StateStore

ROOT = Path(__file__).resolve().parents[1]
NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
BUDGET = 0.300  # seconds, the board with 5,000 open changes
KINDS = (("formal-vote", "resolutions/r{n}.rst"), ("charter-change", "charter.rst"),
         ("documentation-change", "reference/doc{n}.rst"), ("formal-vote", "charter.rst"))


def _config() -> Any:
    sections = PluginRegistry(load_plugins(["governance"])).config_sections()
    config = load_config(ROOT / "etc" / "governance", sections).config
    assert config is not None
    return config


def summaries(config: Any, count: int) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(summary, board row) of `count` open changes; 64 distinct verdicts, renumbered."""
    rules = config.section("governance")
    assert isinstance(rules, RulesConfig)
    index = PeopleIndex.of(config.people)
    tc = [p for p in config.bodies["tc"].members]
    rng = random.Random(7)
    distinct = []
    for i in range(64):
        hashtag, path = KINDS[i % len(KINDS)]
        owner = config.people[tc[i % len(tc)]]
        votes = [Vote(Account(username=config.people[p].gerrit_username), rng.choice((1, 1, -1)),
                      NOW - dt.timedelta(days=1)) for p in rng.sample(tc, i % 6)]
        change = ChangeState.create(
            project="example/governance", number=i + 1,
            owner=Account(username=owner.gerrit_username),
            first_revision_at=NOW - dt.timedelta(days=i % 10), hashtags=[hashtag],
            files=[path.format(n=i)], votes={"Rollcall-Vote": votes})
        verdict = evaluate(change, config, rules, NOW, people=index)
        message = render(verdict)
        distinct.append(summarize(verdict, change, {"subject": f"Change {i} " + "x" * 40},
                                  rules, index, now=NOW, fingerprint=fingerprint(verdict, message),
                                  message=message))
    out = []
    for n in range(1, count + 1):
        summary = dict(distinct[n % len(distinct)], number=n,
                       history=[{"state": "pending", "at": NOW.isoformat(), "patchset": 1,
                                 "fingerprint": "f"}])
        out.append((summary, board_row(summary)))
    return out


async def fill(store: StateStore, rows: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    def write(db: Any) -> None:
        import json

        db.execute("BEGIN")
        db.executemany("INSERT OR REPLACE INTO plugin_values VALUES ('governance', ?, ?, 0)",
                       [(k, json.dumps(v, sort_keys=True)) for summary, row in rows
                        for k, v in ((key_of(summary["number"]), dumps(summary)),
                                     (row_key(summary["number"]), row))])
        db.execute("COMMIT")
    await store.call(write)


async def best(fn: Any, repeat: int = 5) -> float:
    await fn()  # warm-up: templates compiled, pages cached
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        await fn()
        times.append(time.perf_counter() - start)
    return min(times)


async def board_at(config: Any, count: int) -> tuple[float, float, float, int]:
    """(board, waiting-on view, /api/changes) in seconds, and the page's size."""
    with tempfile.TemporaryDirectory() as tmp:
        async with StateStore(Path(tmp) / "state.db") as store:
            await fill(store, summaries(config, count))
            ctx = PluginContext("governance", "bench", config, None,  # type: ignore[arg-type]
                                store.reader("governance"), NOW)
            size = 0

            async def page(query: dict[str, str] | None = None) -> None:
                nonlocal size
                response = await board_page(WebRequest("GET", "/", query=query or {}), ctx)
                size = len(response.body)

            whole = await best(page)
            kib = size // 1024
            waiting = await best(lambda: page({"waiting": "chiara"}))
            api = await best(lambda: changes_api(WebRequest("GET", "/api/changes"), ctx))
    return whole, waiting, api, kib


async def board(config: Any, counts: list[int]) -> bool:
    ok = True
    for count in counts:
        whole, waiting, api, kib = await board_at(config, count)
        mark = ""
        if count == 5000:
            mark = "  (budget < 300 ms: " + ("met)" if whole < BUDGET else "NOT met)")
            ok = whole < BUDGET
        print(f"board, {count:>6,} open changes: {whole * 1000:7.1f} ms ({kib:,} KiB of "
              f"HTML); waiting-on view {waiting * 1000:6.1f} ms; /api/changes "
              f"{api * 1000:6.1f} ms{mark}")
    return ok


async def search(meetings: int, lines: int) -> None:
    rng = random.Random(11)
    words = [f"w{i:04d}" for i in range(2000)]
    with tempfile.TemporaryDirectory() as tmp:
        async with StateStore(Path(tmp) / "state.db") as store:
            library = MinutesIndex(store)
            start = time.perf_counter()
            for m in range(meetings):
                text = []
                for n in range(lines):
                    said = " ".join(rng.choice(words) for _ in range(9))
                    if n % 50 == 7:
                        said = f"#agreed motion {m} carried {said}"
                    text.append(f"16:{n // 60 % 60:02d}:{n % 60:02d} <person{n % 12}> {said}")
                name = f"team{m % 40}"
                path = f"meetings/{name}/2026/{name}.2026-{m % 12 + 1:02d}-01-16.{m:04d}.log.txt"
                await library.record(Path(tmp), name, {path: "\n".join(text) + "\n"})
            indexed = time.perf_counter() - start
            print(f"search: {meetings:,} meetings x {lines} lines indexed in {indexed:.1f} s "
                  f"({meetings * lines / indexed:,.0f} lines/s)")
            for query in ("w1234", "agreed", '"motion 500 carried"', "w0001 w0002"):
                times, hits = [], 0
                for _ in range(20):
                    begin = time.perf_counter()
                    hits = len(await library.search(query, limit=100))
                    times.append(time.perf_counter() - begin)
                print(f"search {query!r:>24}: median {statistics.median(times) * 1000:6.2f} ms, "
                      f"{hits} hit(s) (at most 100)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--changes", default="500,5000,20000")
    ap.add_argument("--meetings", type=int, default=1000)
    ap.add_argument("--lines", type=int, default=500)
    args = ap.parse_args()
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}, "
          f"{os.cpu_count()} CPUs")
    config = _config()
    ok = asyncio.run(board(config, [int(c) for c in args.changes.split(",")]))
    asyncio.run(search(args.meetings, args.lines))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
