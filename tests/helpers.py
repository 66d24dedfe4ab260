"""Small shared builders for core tests, and waiting on a condition."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from govbot.config.model import EMPTY_CONFIG, GovernanceConfig
from govbot.dispatcher import ContextSource, Dispatcher
from govbot.plugin import MemoryState, NoGerrit, Plugin, PluginRegistry
from govbot.reporters import RecordingReporter, ReporterSet

FIXED_NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)


def make_dispatcher(plugins: list[Plugin], *, config: GovernanceConfig = EMPTY_CONFIG,
                    **kw: Any) -> tuple[Dispatcher, RecordingReporter]:
    recorder = RecordingReporter()
    contexts = ContextSource(config=lambda: config, gerrit=NoGerrit(),
                             state=lambda plugin: MemoryState(), clock=lambda e: FIXED_NOW)
    return Dispatcher(PluginRegistry(plugins), ReporterSet([recorder]), contexts, **kw), recorder


async def eventually(predicate: Callable[[], object], timeout: float = 5.0,
                     what: str = "condition", logs: Callable[[], str] = lambda: "",
                     every: float = 0.01) -> None:
    """Poll `predicate` every `every` seconds until it holds; fail after `timeout` seconds
    naming `what` (and `logs()`, for what a failure needs to be understood)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            extra = logs()
            raise AssertionError(f"{what} did not hold within {timeout:.1f} s"
                                 + (f"\n{extra}" if extra else ""))
        await asyncio.sleep(every)
