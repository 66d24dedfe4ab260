#!/usr/bin/env python3
"""Events/s through the whole pipeline, against a bare `json.loads` loop.

Writes a realistic synthetic stream to a file (default 100k events over 2,000
changes, the real mix of types, NoteDb noise and unknown plugin events included;
`--governed` of the changes, 1 in 30 by default, on the governed project
example/governance, the rest on projects no rule governs), then, in the same run,
reading the same file line by line each time (the input is streamed, never held),
times in interleaved rounds:

  baseline    for line in file: json.loads(line)
  parse       for line in file: EventParser.parse(line)
  dispatch    parse -> dispatcher (lanes, workers) -> one plugin that wants every
              event and does nothing: the cost of dispatching each event
  pipeline    the daemon's way: a look at each line's type and project, the lines
              some plugin wants decoded and dispatched -> every built-in plugin ->
              a counting reporter

The governance plugin reads each governed change through an in-process change
reader serving realistic ChangeInfo (labels with votes, revisions, files,
hashtags) as the daemon's REST client reads it (Gerrit's JSON bytes decoded into
govbot.gerrit.changes' structs), so it evaluates and votes as in production. Prints each rate, its
ratio to the baseline (the budget: pipeline >= 1.0 x), and the load. Times are
the process's CPU time (everything runs in one thread), so that other work on a
shared machine does not count; on an idle machine they equal wall time.
Run: `python benchmarks/replay.py [--events N] [--rounds 3]`.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import json
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import msgspec

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from _load import load  # noqa: E402
from reevaluate import synthetic_changes  # noqa: E402

from govbot.actions import Action  # noqa: E402
from govbot.config.loader import load_config  # noqa: E402
from govbot.dispatcher import ContextSource, Dispatcher, Envelope  # noqa: E402
from govbot.gerrit.changes import ChangeInfo, ChangeInfoDecoder  # noqa: E402
from govbot.gerrit.events import Event as GerritEventBase  # noqa: E402
from govbot.gerrit.events import EventParser  # noqa: E402
from govbot.gerrit.identity import event_id  # noqa: E402
from govbot.plugin import Handler, MemoryState, Plugin, PluginContext, PluginRegistry  # noqa: E402
from govbot.plugin_loader import load_plugins  # noqa: E402
from govbot.replay import event_time  # noqa: E402
from govbot.reporters import ReporterSet  # noqa: E402
from govbot.testing.samples import BASE_TIME, synthetic_stream  # noqa: E402

GOVERNED = "example/governance"
#: The projects some rule of etc/governance governs; in the stream only the selected
#: changes stay on one of them (as example/governance), the rest move to example/misc.
RULED = (b'"example/governance"', b'"example/compute"', b'"example/infra-config"')


class Changes:
    """A ChangeReader over synthetic open changes of the governed project: every
    number is answered with a realistic governance change (category hashtag, member
    votes, a resolution file)."""

    def __init__(self, count: int) -> None:
        now = dt.datetime.fromtimestamp(BASE_TIME, dt.UTC)
        self._shapes = [info for info in synthetic_changes(count, now) if info["hashtags"]]
        self.reads = 0
        # Gerrit's answer for each change, as the bytes the REST client decodes (made
        # before the timed rounds: serving them is Gerrit's work, not the bot's).
        self._answers = [msgspec.json.encode(self._info(n)) for n in range(count)]
        self._decoder = ChangeInfoDecoder()

    def _info(self, number: int) -> dict[str, Any]:
        shape = self._shapes[number % len(self._shapes)]
        return {**shape, "project": GOVERNED, "_number": number,
                "id": f"example%2Fgovernance~{number}"}

    async def get_change(self, change: str) -> Mapping[str, Any] | None:
        self.reads += 1
        return self._info(int(change.rpartition("~")[2]))

    async def get_change_info(self, change: str) -> ChangeInfo | None:
        """As the daemon's REST client reads a change: its JSON decoded into structs."""
        self.reads += 1
        number = int(change.rpartition("~")[2])
        if number >= len(self._answers):
            return self._decoder.change(msgspec.json.encode(self._info(number)))
        return self._decoder.change(self._answers[number])

    async def query(self, query: str, *, limit: int = 500,
                    options: Sequence[str] | None = None) -> Sequence[Mapping[str, Any]]:
        return self._shapes[:limit]

    async def file_content(self, change: str, revision: str, path: str) -> bytes | None:
        return None


class Idle(Plugin):
    """Wants every event and does nothing with it: what dispatching costs."""

    name = "idle"

    def handlers(self) -> Mapping[type, Handler]:
        return {GerritEventBase: self.on_event}

    async def on_event(self, event: GerritEventBase, ctx: PluginContext) -> Sequence[Action]:
        return ()


class Counting:
    """A reporter that counts actions (a recording one would hold them all)."""

    action_types: tuple[type[Action], ...] = (Action,)

    def __init__(self) -> None:
        self.count = 0

    async def report(self, action: Action) -> None:
        self.count += 1


def write_stream(path: Path, events: int, changes: int, governed: float) -> tuple[int, int]:
    """The stream with only every `1/governed`-th change on the governed project."""
    every = max(1, round(1 / governed)) if governed > 0 else 0
    lines = on_governed = 0
    with path.open("wb") as out:
        for line in synthetic_stream(events, changes):
            ruled = next((name for name in RULED if name in line), None)
            if ruled is not None:
                number = json.loads(line).get("change", {}).get("number")
                selected = every and number is not None and int(number) % every == 0
                line = line.replace(ruled, f'"{GOVERNED}"'.encode() if selected
                                    else b'"example/misc"')
                on_governed += bool(selected)
            out.write(line.rstrip(b"\n") + b"\n")
            lines += 1
    return lines, on_governed


def baseline(path: Path) -> float:
    start = time.process_time()
    with path.open("rb") as lines:
        for line in lines:
            json.loads(line)
    return time.process_time() - start


def parse_only(path: Path) -> float:
    parser = EventParser()
    start = time.process_time()
    with path.open("rb") as lines:
        for line in lines:
            parser.parse(line)
    return time.process_time() - start


async def pipeline(path: Path, registry: PluginRegistry, config: object, workers: int,
                   reader: Changes) -> tuple[float, int, int, int, dict[str, float]]:
    """(CPU seconds, events handled, events no plugin wanted, actions, wall seconds
    inside each plugin)."""
    counter = Counting()
    contexts = ContextSource(config=lambda: config, gerrit=reader,  # type: ignore[arg-type,return-value]
                             state=lambda p: MemoryState(), clock=event_time)
    dispatcher = Dispatcher(registry, ReporterSet([counter]), contexts, workers=workers,
                            max_pending=10_000)
    parser = EventParser()
    runner = asyncio.create_task(dispatcher.run())
    start = time.process_time()
    submit, wanted, decode = dispatcher.submit, dispatcher.wanted_kind, parser.decode_wanted
    with path.open("rb") as lines:
        for line in lines:
            # A line about a project no plugin acts on is not decoded (its type and
            # project are looked at), and no id is worked out for it.
            event = decode(line, wanted)
            if event is not None:
                await submit(Envelope(event_id(event), event, event.lane))
    await dispatcher.join()
    elapsed = time.process_time() - start
    runner.cancel()
    inside = {name: stats.seconds for name, stats in dispatcher.stats.plugins.items()}
    return (elapsed, dispatcher.stats.handled, parser.stats.unwanted, counter.count,
            inside)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--changes", type=int, default=2_000)
    ap.add_argument("--governed", type=float, default=1 / 30,
                    help="share of the changes on the governed project")
    ap.add_argument("--workers", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--governance", type=Path, default=ROOT / "etc" / "governance")
    args = ap.parse_args()

    plugins = load_plugins(None)
    registry = PluginRegistry(plugins)
    bare = PluginRegistry([Idle()])
    result = load_config(args.governance, registry.config_sections())
    if result.config is None:
        print("\n".join(map(str, result.errors)), file=sys.stderr)
        return 1
    reader = Changes(args.changes)
    with tempfile.TemporaryDirectory(prefix="govbot-replay-") as tmp:
        path = Path(tmp) / "events.jsonl"
        lines, on_governed = write_stream(path, args.events, args.changes, args.governed)
        size = path.stat().st_size / lines
        times: dict[str, list[float]] = {"baseline": [], "parse": [], "dispatch": [],
                                         "pipeline": []}
        handled = unwanted = actions = 0
        baseline(path), parse_only(path)  # warm-up: caches, the decoder's key cache
        for _ in range(args.rounds):  # interleaved, so a slow minute hits every stage
            gc.collect()
            times["baseline"].append(baseline(path))
            times["parse"].append(parse_only(path))
            times["dispatch"].append(asyncio.run(
                pipeline(path, bare, result.config, args.workers, reader))[0])
            reads = reader.reads
            elapsed, handled, unwanted, actions, inside = asyncio.run(
                pipeline(path, registry, result.config, args.workers, reader))
            times["pipeline"].append(elapsed)
            governed_reads = reader.reads - reads
    print(f"events: {lines:,} lines over {args.changes:,} changes, {size:.0f} bytes/line, "
          f"{on_governed / lines:.1%} on the governed project; "
          f"plugins: {', '.join(p.name for p in plugins)}; {load()}")
    base = min(times["baseline"])
    for stage, label in (("baseline", "json.loads loop"), ("parse", "parse stage alone"),
                         ("dispatch", "parse + dispatch, idle plugin"),
                         ("pipeline", "full pipeline")):
        best, worst = min(times[stage]), max(times[stage])
        ratios = [b / t for b, t in zip(times["baseline"], times[stage], strict=True)]
        print(f"{label:<28}: {lines / best:>9,.0f} events/s of CPU (slowest round "
              f"{lines / worst:,.0f}); {base / best:.2f} x the baseline, "
              f"{min(ratios):.2f}-{max(ratios):.2f} within rounds")
    print(f"pipeline: {handled:,} events handled by plugins, {unwanted:,} no plugin wants "
          f"(not decoded), {actions:,} actions, "
          f"{governed_reads:,} changes read by the governance plugin")
    print("inside each plugin (last round, per event of the input): " + ", ".join(
        f"{name} {seconds / lines * 1e6:.1f} us" for name, seconds in
        sorted(inside.items(), key=lambda item: -item[1])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
