#!/usr/bin/env python3
"""Minutes of a 10,000-line meeting: render all four formats (budget: 0.25 s).

Builds a meeting by folding a synthetic journal (30 speakers; every 10th line a
command: topics, decisions, actions, links; five votes with 20 ballots each), then
times `meetings_render.render` (HTML minutes, text minutes, HTML log, text log),
best of 5 after one warm-up, and reports the peak memory of one render (tracemalloc).
The fold of the journal (what a restart costs) is timed too.
Run: `python benchmarks/meetings.py [--lines 10000]`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
import tracemalloc
from typing import Any

from govbot.plugins.meetings.model import Meeting
from govbot.plugins.meetings.render import render

T0 = dt.datetime(2026, 11, 19, 16, 0, tzinfo=dt.UTC)
BUDGET = 0.25


def journal(lines: int) -> list[dict[str, Any]]:
    nicks = [f"person{i}" for i in range(30)]
    entries: list[dict[str, Any]] = [{
        "type": "line", "time": T0.isoformat(), "nick": "chair", "id": "account:chair",
        "text": "#startmeeting bench",
        "fx": [{"op": "start", "channel": "#bench", "name": "bench", "owner": "account:chair"}],
        "said": ["Meeting started.", "The meeting name has been set to 'bench'"]}]
    commands = [("#topic", "topic", None), ("#agreed", "item", "AGREED"),
                ("#action", "item", "ACTION"), ("#info", "item", "INFO"),
                ("#link", "item", "LINK")]
    for n in range(1, lines):
        when = (T0 + dt.timedelta(seconds=n)).isoformat()
        nick = nicks[n % 30]
        if n % 10:
            text = (f"line {n}: some <b>discussion</b> & a link https://example.org/{n}?a=1&b=2"
                    if n % 7 == 0 else f"line {n}: ordinary discussion by {nick}")
            entries.append({"type": "line", "time": when, "nick": nick,
                            "id": f"account:{nick}", "text": text})
            continue
        if n % 2000 == 500:  # a vote: start, 20 ballots, end
            entries.append({"type": "line", "time": when, "nick": "chair",
                            "id": "account:chair", "text": f"#startvote Question {n}?",
                            "fx": [{"op": "startvote", "question": f"Question {n}?",
                                    "options": ["Yes", "No"]}]})
            for k in range(20):
                entries.append({"type": "line", "time": when, "nick": nicks[k],
                                "id": f"account:{nicks[k]}", "text": "#vote yes",
                                "fx": [{"op": "vote", "voter": nicks[k],
                                        "option": "Yes" if k % 3 else "No"}]})
            entries.append({"type": "line", "time": when, "nick": "chair",
                            "id": "account:chair", "text": "#endvote",
                            "fx": [{"op": "endvote"}]})
            continue
        word, op, kind = commands[(n // 10) % len(commands)]
        text = f"item {n} for {nicks[(n // 10) % 30]}"
        fx: dict[str, Any] = {"op": op, "text": text}
        if kind:
            fx["kind"] = kind
        entries.append({"type": "line", "time": when, "nick": "chair", "id": "account:chair",
                        "text": f"{word} {text}", "fx": [fx]})
    end = (T0 + dt.timedelta(seconds=lines)).isoformat()
    entries.append({"type": "line", "time": end, "nick": "chair", "id": "account:chair",
                    "text": "#endmeeting", "fx": [{"op": "end"}], "said": ["Meeting ended."]})
    return entries


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=10_000)
    args = ap.parse_args()
    entries = journal(args.lines)
    started = time.perf_counter()
    meeting = Meeting.fold("#bench/x", entries)
    fold = time.perf_counter() - started
    render(meeting)  # warm-up: template compilation is a one-off per process
    times = []
    for _ in range(5):
        started = time.perf_counter()
        files = render(meeting)
        times.append(time.perf_counter() - started)
    tracemalloc.start()
    render(meeting)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    size = sum(len(v.encode()) for v in files.values())
    best = min(times)
    print(f"meeting: {len(meeting.lines):,} log lines, {len(meeting.items):,} items, "
          f"{len(meeting.votes())} votes, {len(meeting.attendees())} people")
    print(f"fold of the journal ({len(entries):,} entries): {fold * 1000:.1f} ms")
    print(f"render 4 formats: best {best * 1000:.1f} ms, median "
          f"{sorted(times)[len(times) // 2] * 1000:.1f} ms (budget {BUDGET * 1000:.0f} ms); "
          f"output {size / 1e6:.2f} MB")
    print(f"peak memory of one render (tracemalloc): {peak / 1e6:.1f} MB")
    for path, content in sorted(files.items()):
        print(f"  {path}: {len(content.encode()) / 1e3:.0f} kB")
    return 0 if best <= BUDGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
