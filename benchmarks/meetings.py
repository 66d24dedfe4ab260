#!/usr/bin/env python3
"""Minutes of a 10,000-line meeting from its raw log: interpretation plus rendering.

Writes a synthetic meeting (30 speakers; every 10th line a command: topics,
decisions, actions, links; five votes with 20 ballots each) as a raw MeetBot-style
text log (`[HH:MM:SS] <nick> text`), then times, best of 5 after one warm-up:

  baseline   a bare scan of the log: split the lines, match each against one regex
  interpret  the log replayed through the meetings interpreter (`from_log`)
  render     all four formats (HTML minutes, text minutes, HTML log, text log)
  recover    both, as `govbot minutes LOG` does (budget: 0.25 s)

and `govbot minutes LOG --out DIR` as a whole process (imports included, with .pyc
files as installed: see _process.py; best of 5 after a warm-up, in rounds with
`python -c pass` for scale; budget 0.4 s), the fold of the journal (what a restart
costs), the peak memory of one recovery (tracemalloc) and the machine's load.
Run: `python benchmarks/meetings.py [--lines 10000] [--runs 5]`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _load import load
from _process import NOTE, compare, installed_env

from govbot.plugins.meetings.model import Meeting
from govbot.plugins.meetings.recovery import from_log
from govbot.plugins.meetings.render import render

T0 = dt.datetime(2026, 11, 19, 16, 0, tzinfo=dt.UTC)
BUDGET = 0.25
PROCESS_BUDGET = 0.4


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


def raw_log(entries: list[dict[str, Any]]) -> str:
    """The journal as the channel saw it, in MeetBot's .log.txt shape."""
    out = []
    for entry in entries:
        clock = dt.datetime.fromisoformat(entry["time"]).strftime("%H:%M:%S")
        out.append(f"[{clock}] <{entry['nick']}> {entry['text']}")
        out += [f"[{clock}] <govbot> {said}" for said in entry.get("said", ())]
    return "\n".join(out) + "\n"


def best_of(work: Callable[[], object], times: int = 5) -> tuple[float, float]:
    """(best, median) seconds of `times` runs after one warm-up."""
    work()
    runs = []
    for _ in range(times):
        started = time.perf_counter()
        work()
        runs.append(time.perf_counter() - started)
    return min(runs), sorted(runs)[len(runs) // 2]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=5, help="timed runs of the whole process")
    args = ap.parse_args()
    entries = journal(args.lines)
    started = time.perf_counter()
    Meeting.fold("#bench/x", entries)
    fold = time.perf_counter() - started
    text = raw_log(entries)
    day = T0.date()
    line_re = re.compile(r"^\[?(\d{1,2}:\d{2}(?::\d{2})?)\]?\s+<([^>\s]+)>\s?(.*)$")

    def scan() -> None:
        for raw in text.splitlines():
            line_re.match(raw)

    def interpret() -> Meeting | None:
        return from_log(text, day, channel="#bench", bot_nick="govbot")

    meeting = interpret()
    assert meeting is not None and meeting.is_started
    base = best_of(scan)
    parsed = best_of(interpret)
    rendered = best_of(lambda: render(meeting))
    both = best_of(lambda: render(interpret()))  # type: ignore[arg-type]
    tracemalloc.start()
    files = render(interpret())  # type: ignore[arg-type]
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    with tempfile.TemporaryDirectory(prefix="govbot-minutes-") as tmp, installed_env() as env:
        log = Path(tmp) / "bench.2026-11-19-16.00.log.txt"
        log.write_text(text)
        command = [sys.executable, "-m", "govbot", "minutes", str(log), "--out",
                   str(Path(tmp) / "out"), "--channel", "#bench"]
        timed = compare({"minutes": command, "python": [sys.executable, "-c", "pass"]}, env,
                        runs=args.runs)
        process = timed["minutes"]
    size = sum(len(v.encode()) for v in files.values())
    print(f"meeting: {len(text.splitlines()):,} raw log lines, {len(meeting.items):,} items, "
          f"{len(meeting.votes())} votes, {len(meeting.attendees())} people; {load()}")
    for label, (best, median) in (("baseline: regex scan of the log", base),
                                  ("interpret the raw log", parsed),
                                  ("render 4 formats", rendered),
                                  ("recover = interpret + render", both)):
        print(f"{label:<32}: best {best * 1000:7.1f} ms, median {median * 1000:7.1f} ms, "
              f"{best / base[0]:5.1f} x the baseline")
    print(f"govbot minutes LOG, whole process: {process} (budget "
          f"{PROCESS_BUDGET * 1000:.0f} ms); {NOTE}; in the same rounds `python -c pass` "
          f"{timed['python']}")
    print(f"budget for recover {BUDGET * 1000:.0f} ms; output {size / 1e6:.2f} MB; "
          f"fold of the journal ({len(entries):,} entries) {fold * 1000:.1f} ms; "
          f"peak memory of one recovery (tracemalloc) {peak / 1e6:.1f} MB")
    return 0 if both[0] <= BUDGET and process.best <= PROCESS_BUDGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
