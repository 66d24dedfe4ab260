"""Small shared builders for core tests (no I/O)."""

from __future__ import annotations

import datetime as dt
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
