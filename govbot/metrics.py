"""Prometheus metrics, read from the live objects at scrape time.

A collector per daemon on its own registry (no process-global metrics), so tests
and several daemons in one process never see each other's numbers. Each component
keeps its own numbers (counters, govbot.stats histograms, govbot.health readiness);
this module only names them. docs/operations.md lists every family with the alert an
operator would set on it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from prometheus_client import CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from prometheus_client.registry import Collector

from govbot.gerrit.service import GerritStats
from govbot.stats import Histogram

if TYPE_CHECKING:
    from govbot.config.repo import ConfigHolder
    from govbot.dispatcher import Dispatcher
    from govbot.gerrit.service import GerritService
    from govbot.health import PartStatus
    from govbot.intake import Intake
    from govbot.irc.service import IrcService
    from govbot.scheduler import Scheduler
    from govbot.state.store import StateStore
    from govbot.zuul.client import ZuulClient


class Observed(Protocol):
    """The components a collector reads (the daemon's; None: not running or not set)."""

    dispatcher: Dispatcher | None
    intake: Intake | None
    irc: IrcService | None
    gerrit: GerritService | None
    zuul: ZuulClient | None
    scheduler: Scheduler | None
    config_holder: ConfigHolder | None
    store: StateStore | None
    config_reloads: Counter[str]
    open_journals: dict[str, int]

    def readiness(self) -> Sequence[PartStatus]: ...

    def fault_counts(self) -> dict[str, Counter[str]]: ...

    def plugin_counters(self) -> dict[str, Mapping[str, int]]: ...


class GovbotCollector(Collector):
    def __init__(self, daemon: Observed, clock: Callable[[], float]) -> None:
        self._daemon = daemon
        self._clock = clock

    def collect(self) -> Iterator[Any]:
        d = self._daemon
        dispatcher = d.dispatcher
        if dispatcher is not None:
            yield GaugeMetricFamily("govbot_events_pending", "Events queued or in flight",
                                    value=dispatcher.pending)
            yield CounterMetricFamily("govbot_events_handled", "Events fully handled",
                                      value=dispatcher.stats.handled)
            yield CounterMetricFamily("govbot_events_retried",
                                      "Events put back after a transient failure",
                                      value=dispatcher.stats.retries)
            yield CounterMetricFamily("govbot_events_parked_times",
                                      "Events parked after their retries (each time)",
                                      value=dispatcher.stats.parked)
            yield GaugeMetricFamily("govbot_events_parked",
                                    "Events parked now (govbot inbox list/retry)",
                                    value=len(dispatcher.parked()))
            calls = CounterMetricFamily("govbot_plugin_calls", "Handler calls",
                                        labels=["plugin"])
            errors = CounterMetricFamily("govbot_plugin_errors",
                                         "Handler calls that raised or timed out",
                                         labels=["plugin", "kind"])
            actions = CounterMetricFamily("govbot_plugin_actions", "Actions returned",
                                          labels=["plugin"])
            seconds = CounterMetricFamily("govbot_plugin_seconds",
                                          "Time spent in handlers", labels=["plugin"])
            for name, s in dispatcher.stats.plugins.items():
                calls.add_metric([name], s.calls)
                errors.add_metric([name, "exception"], s.errors)
                errors.add_metric([name, "timeout"], s.timeouts)
                actions.add_metric([name], s.actions)
                seconds.add_metric([name], s.seconds)
            yield from (calls, errors, actions, seconds)
        if d.intake is not None:
            parsed = CounterMetricFamily("govbot_gerrit_events", "Gerrit events parsed",
                                         labels=["source", "type"])
            skipped = CounterMetricFamily("govbot_gerrit_events_skipped",
                                          "Gerrit lines not handled",
                                          labels=["source", "reason"])
            for source, parser in d.intake.parsers().items():
                for type_name, n in parser.stats.parsed.items():
                    parsed.add_metric([source, type_name], n)
                skipped.add_metric([source, "unknown-type"], sum(parser.stats.unknown.values()))
                skipped.add_metric([source, "malformed"], parser.stats.malformed)
                skipped.add_metric([source, "noise"], parser.stats.noise)
                skipped.add_metric([source, "unwanted"], parser.stats.unwanted)
            yield from (parsed, skipped)
        yield from self._readiness()
        irc = d.irc
        if irc is not None:
            yield GaugeMetricFamily("govbot_irc_connected", "1 while registered on IRC",
                                    value=1 if irc.connected else 0)
            for name, help_text, value in (
                    ("sent", "IRC messages sent", irc.stats.sent),
                    ("dropped", "IRC messages dropped (droppable mode)", irc.stats.dropped),
                    ("reconnects", "IRC reconnection attempts", irc.stats.reconnects),
                    ("received", "IRC events received", irc.stats.received),
                    ("inbound_dropped", "IRC events lost to back-pressure",
                     irc.stats.inbound_dropped),
                    ("inbound_paused", "times reading from IRC paused: events queue full",
                     irc.stats.inbound_paused)):
                yield CounterMetricFamily(f"govbot_irc_{name}", help_text, value=value)
        gerrit = d.gerrit
        if gerrit is not None:
            yield from _gerrit_metrics(gerrit.stats())
            yield _histogram("govbot_gerrit_vote_latency_seconds",
                             "From a Gerrit event's arrival to the bot's vote on it posted",
                             gerrit.reporter.vote_latency)
            yield _histogram("govbot_gerrit_rest_latency_seconds",
                             "Gerrit REST call attempts, answered or failed",
                             gerrit.rest.latency)
            yield CounterMetricFamily("govbot_gerrit_rest_failures",
                                      "REST calls that failed after their retries",
                                      value=gerrit.rest.failures)
        if d.intake is not None:
            yield CounterMetricFamily("govbot_events_duplicate",
                                      "Events dropped as already received",
                                      value=d.intake.duplicates)
            yield CounterMetricFamily("govbot_events_line_failures",
                                      "Event lines that failed to parse or store (dropped)",
                                      value=d.intake.line_failures)
        zuul = d.zuul
        if zuul is not None:
            stats = zuul.stats
            for name, n in (("requests", stats.requests), ("failures", stats.failures),
                            ("cache_hits", stats.cache_hits)):
                yield CounterMetricFamily(f"govbot_zuul_{name}", f"Zuul API {name}", value=n)
            yield GaugeMetricFamily("govbot_zuul_reachable", "1 while Zuul's API answers",
                                    value=1 if stats.reachable else 0)
        scheduler = d.scheduler
        if scheduler is not None:
            fired = CounterMetricFamily("govbot_wakeups_fired",
                                        "Scheduled wake-ups fired (reminders, deadlines)",
                                        labels=["plugin"])
            late = CounterMetricFamily("govbot_wakeups_late",
                                       "Wake-ups fired over a minute past their time",
                                       labels=["plugin"])
            for plugin, n in sorted(scheduler.fired_by.items()):
                fired.add_metric([plugin], n)
                late.add_metric([plugin], scheduler.late[plugin])
            yield from (fired, late)
        counters = CounterMetricFamily("govbot_plugin_counter",
                                       "Counts a plugin keeps (reminders: sent, late, dropped)",
                                       labels=["plugin", "counter"])
        for plugin, counts in sorted(d.plugin_counters().items()):
            for counter, n in sorted(counts.items()):
                counters.add_metric([plugin, counter], n)
        yield counters
        journals = GaugeMetricFamily("govbot_journals_open",
                                     "Open journals by plugin (meetings: meetings in progress)",
                                     labels=["plugin"])
        for plugin, n in sorted(d.open_journals.items()):
            journals.add_metric([plugin], n)
        yield journals
        store = d.store
        if store is not None:
            yield GaugeMetricFamily("govbot_state_busy",
                                    "1 while the state database is locked by another process",
                                    value=1 if store.busy else 0)
            yield CounterMetricFamily("govbot_state_busy_waits",
                                      "Times the state database was found locked and waited for",
                                      value=store.busy_waits)
        holder = d.config_holder
        if holder is not None:
            yield from config_metrics(holder)
            reloads = CounterMetricFamily("govbot_config_reloads",
                                          "Config reload attempts by outcome",
                                          labels=["outcome"])
            for outcome in ("loaded", "unchanged", "rejected", "failed"):
                reloads.add_metric([outcome], d.config_reloads[outcome])
            yield reloads

    def _readiness(self) -> Iterator[Any]:
        ready = GaugeMetricFamily("govbot_ready", "1 while the part is ready (as /readyz)",
                                  labels=["part"])
        since = GaugeMetricFamily("govbot_ready_state_seconds",
                                  "Seconds since the part's readiness last changed",
                                  labels=["part"])
        faults = CounterMetricFamily("govbot_permanent_faults",
                                     "Permanent faults (fix needed, not cured by retrying)",
                                     labels=["part", "kind"])
        now = self._clock()
        for part in self._daemon.readiness():
            ready.add_metric([part.part], 1 if part.ready else 0)
            since.add_metric([part.part], max(0.0, now - part.since))
        for part_name, counts in self._daemon.fault_counts().items():
            for kind, n in sorted(counts.items()):
                faults.add_metric([part_name, kind], n)
        yield from (ready, since, faults)


def _gerrit_metrics(stats: GerritStats) -> Iterator[Any]:
    votes = CounterMetricFamily("govbot_gerrit_votes", "Gerrit votes by outcome",
                                labels=["outcome"])
    for outcome, n in stats.votes.items():
        votes.add_metric([outcome], n)
    yield votes
    yield CounterMetricFamily("govbot_gerrit_rest_retries", "REST calls retried",
                              value=stats.rest_retries)
    yield CounterMetricFamily("govbot_gerrit_catchup_pages",
                              "Catch-up pages read (events-log answers, change-query pages)",
                              value=stats.catchup_pages)
    yield CounterMetricFamily("govbot_gerrit_catchup_fallbacks",
                              "Events-log reads that failed and went to change queries",
                              value=stats.catchup_fallbacks)
    if not stats.stream_enabled:
        return
    yield GaugeMetricFamily("govbot_gerrit_stream_connected",
                            "1 while the event stream is connected",
                            value=1 if stats.stream_connected else 0)
    yield CounterMetricFamily("govbot_gerrit_stream_connects", "Stream sessions begun",
                              value=stats.stream_connects)
    yield CounterMetricFamily("govbot_gerrit_stream_lines_too_long",
                              "Stream lines over gerrit.ssh.max_line_bytes (dropped)",
                              value=stats.stream_lines_too_long)
    yield GaugeMetricFamily("govbot_gerrit_gaps_open",
                            "Ranges of Gerrit events not read yet (after a disconnect, a "
                            "restart or dropped output)", value=stats.gaps_open)
    yield GaugeMetricFamily("govbot_gerrit_oldest_unread_seconds",
                            "eventCreatedOn of the oldest unread second (0: none)",
                            value=stats.oldest_unread)
    yield CounterMetricFamily("govbot_gerrit_catchup_reads", "Gaps read to their end",
                              value=stats.catchup_reads)
    yield CounterMetricFamily("govbot_gerrit_catchup_failures",
                              "Gap reads that failed (each retried with backoff)",
                              value=stats.catchup_failures)


def config_metrics(holder: ConfigHolder) -> Iterator[Any]:
    """What the config holder reports of the revision it tried and the one in force."""
    yield GaugeMetricFamily("govbot_config_errors",
                            "Errors in the newest config revision (0: it is loaded)",
                            value=holder.last_error_count)
    yield GaugeMetricFamily("govbot_config_items_unavailable",
                            "Items of the config in force left out for their own errors "
                            "(irc-meetings files yaml2ical rejects)",
                            value=holder.item_error_count)


def _histogram(name: str, help_text: str, histogram: Histogram) -> HistogramMetricFamily:
    return HistogramMetricFamily(name, help_text, buckets=histogram.buckets(),
                                 sum_value=histogram.sum)


def make_registry(daemon: Observed, clock: Callable[[], float]) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(GovbotCollector(daemon, clock))
    return registry
