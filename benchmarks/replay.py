#!/usr/bin/env python3
"""Events/s through the whole pipeline, against a bare `json.loads` loop.

Generates a realistic synthetic stream (default 100k events over 2,000 changes,
the real mix of types, NoteDb noise and unknown plugin events included), then,
in the same run and on the same lines, times:

  baseline  for line in lines: json.loads(line)
  pipeline  parse -> dispatcher (lanes, workers) -> every enabled plugin ->
            recording reporter

and prints both rates and their ratio. Run: `python benchmarks/replay.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import time
import tracemalloc
from pathlib import Path

from govbot.config.loader import load_config
from govbot.dispatcher import ContextSource, Dispatcher, Envelope
from govbot.gerrit.events import EventParser
from govbot.plugin import MemoryState, NoGerrit, PluginRegistry
from govbot.plugin_loader import load_plugins
from govbot.replay import event_time
from govbot.reporters import RecordingReporter, ReporterSet
from govbot.testing.samples import synthetic_stream

ROOT = Path(__file__).resolve().parent.parent


def baseline(lines: list[bytes]) -> float:
    start = time.perf_counter()
    for line in lines:
        json.loads(line)
    return time.perf_counter() - start


async def pipeline(lines: list[bytes], registry: PluginRegistry, config: object,
                   workers: int) -> tuple[float, int, int]:
    recorder = RecordingReporter()
    contexts = ContextSource(config=lambda: config, gerrit=NoGerrit(),  # type: ignore[arg-type,return-value]
                             state=lambda p: MemoryState(), clock=event_time)
    dispatcher = Dispatcher(registry, ReporterSet([recorder]), contexts, workers=workers,
                            max_pending=10_000)
    parser = EventParser()
    runner = asyncio.create_task(dispatcher.run())
    start = time.perf_counter()
    submit = dispatcher.submit
    for line in lines:
        parsed = parser.parse(line)
        if parsed is not None:
            event = parsed.event
            await submit(Envelope(parsed.id, event, event.lane))
    await dispatcher.join()
    elapsed = time.perf_counter() - start
    runner.cancel()
    return elapsed, dispatcher.stats.handled, len(recorder.actions)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--changes", type=int, default=2_000)
    ap.add_argument("--workers", type=int, default=16)
    ap.add_argument("--governance", type=Path, default=ROOT / "etc" / "governance")
    args = ap.parse_args()

    lines = list(synthetic_stream(args.events, args.changes))
    size = sum(map(len, lines)) / len(lines)
    plugins = load_plugins(None)
    registry = PluginRegistry(plugins)
    result = load_config(args.governance, registry.config_sections())
    if result.config is None:
        print("\n".join(map(str, result.errors)), file=sys.stderr)
        return 1

    gc.collect()
    base = min(baseline(lines) for _ in range(3))
    runs = [asyncio.run(pipeline(lines, registry, result.config, args.workers))
            for _ in range(3)]
    best = min(runs, key=lambda r: r[0])
    tracemalloc.start()
    asyncio.run(pipeline(lines[:20_000], registry, result.config, args.workers))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    print(f"events: {len(lines)} lines over {args.changes} changes, {size:.0f} bytes/line "
          f"on average; plugins: {', '.join(p.name for p in plugins) or 'none'}")
    print(f"baseline json.loads loop : {len(lines) / base:>10,.0f} events/s")
    print(f"govbot full pipeline     : {len(lines) / best[0]:>10,.0f} events/s "
          f"({best[1]} handled after filtering, {best[2]} actions)")
    print(f"ratio pipeline/baseline  : {base / best[0]:.2f}")
    print(f"peak traced memory (20k events): {peak / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
