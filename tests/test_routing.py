"""Routing: a plugin that says it has nothing to do with a project is not called."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from govbot.actions import Action, Say
from govbot.config.loader import load_config
from govbot.config.model import EMPTY_CONFIG, GovernanceConfig
from govbot.context import MemoryState, NoGerrit
from govbot.dispatcher import ContextSource, Dispatcher, Envelope
from govbot.events import ConfigReloaded
from govbot.gerrit import events as ev
from govbot.plugin import Plugin, PluginContext, PluginRegistry
from govbot.plugin_loader import load_plugins
from govbot.replay import replay
from govbot.reporters import RecordingReporter, ReporterSet
from govbot.testing.samples import change_event, comment_added, ref_updated, synthetic_stream
from tests.helpers import FIXED_NOW

ROOT = Path(__file__).resolve().parent.parent


def fresh_config() -> GovernanceConfig:
    """A config object of its own (routing remembers answers per loaded config)."""
    return dataclasses.replace(EMPTY_CONFIG)


def envelope(project: str, number: int, text: str) -> Envelope:
    parsed = ev.EventParser().parse(json.dumps(
        comment_added(project, number, "bob", {"Code-Review": 1}, text=text)))
    assert parsed is not None
    return Envelope(parsed.id, parsed.event, parsed.event.lane)


class Picky(Plugin):
    """Acts on comments about the projects it is told, and on every reload."""

    name = "picky"

    def __init__(self, projects: set[str]) -> None:
        self.projects = projects
        self.asked: list[tuple[type, str]] = []
        self.seen: list[str] = []

    def wants(self, event_type: type, project: str, ctx: PluginContext) -> bool:
        self.asked.append((event_type, project))
        return project in self.projects

    def handlers(self) -> dict[type, Any]:
        return {ev.CommentAdded: self.on_comment, ConfigReloaded: self.on_reload}

    async def on_comment(self, event: ev.CommentAdded, ctx: PluginContext
                         ) -> Sequence[Action]:
        self.seen.append(event.text)
        return [Say(target="#picky", text=event.text)]

    async def on_reload(self, event: ConfigReloaded, ctx: PluginContext
                        ) -> Sequence[Action]:
        self.seen.append("reload")
        return ()


class Everything(Plugin):
    name = "everything"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def handlers(self) -> dict[type, Any]:
        return {ev.CommentAdded: self.on_comment}

    async def on_comment(self, event: ev.CommentAdded, ctx: PluginContext
                         ) -> Sequence[Action]:
        self.seen.append(event.text)
        return ()


def dispatcher(plugins: list[Plugin], configs: list[GovernanceConfig]
               ) -> tuple[Dispatcher, RecordingReporter]:
    recorder = RecordingReporter()
    contexts = ContextSource(config=lambda: configs[-1], gerrit=NoGerrit(),
                             state=lambda plugin: MemoryState(), clock=lambda e: FIXED_NOW)
    return Dispatcher(PluginRegistry(plugins), ReporterSet([recorder]), contexts), recorder


async def run(d: Dispatcher, envelopes: list[Envelope]) -> None:
    async with asyncio.TaskGroup() as group:
        runner = group.create_task(d.run())
        for env in envelopes:
            await d.submit(env)
        await asyncio.wait_for(d.join(), 5)
        runner.cancel()


async def test_a_plugin_is_called_only_for_the_projects_it_wants() -> None:
    picky, everything = Picky({"example/governance"}), Everything()
    d, recorder = dispatcher([picky, everything], [fresh_config()])
    await run(d, [envelope("example/governance", 1, "g1"), envelope("example/misc", 2, "m1"),
                  envelope("example/governance", 1, "g2"), envelope("example/misc", 3, "m2")])
    assert picky.seen == ["g1", "g2"]
    assert sorted(everything.seen) == ["g1", "g2", "m1", "m2"]  # the other sees all
    assert [a.text for a in recorder.actions if isinstance(a, Say)] == ["g1", "g2"]
    # Asked once per (event class, project) under one config, not once per event.
    assert sorted(p for _, p in picky.asked) == ["example/governance", "example/misc"]
    assert d.stats.handled == 4 and d.stats.plugins["picky"].calls == 2


async def test_an_event_no_plugin_wants_is_finished_at_once() -> None:
    picky = Picky({"example/governance"})
    d, recorder = dispatcher([picky], [fresh_config()])
    done: list[str] = []

    async def mark() -> None:
        done.append("m1")

    env = envelope("example/misc", 2, "m1")
    env.on_done = mark
    assert not d.wanted(env.event) and d.wanted(envelope("example/governance", 1, "g").event)
    await d.submit(env)  # before the workers run: nothing to wait for
    assert done == ["m1"] and d.pending == 0 and d.stats.handled == 1
    await asyncio.wait_for(d.join(), 1)
    assert picky.seen == [] and recorder.actions == []


async def test_a_new_config_is_asked_again() -> None:
    picky = Picky(set())
    configs = [fresh_config()]
    d, _ = dispatcher([picky], configs)
    await run(d, [envelope("example/new", 1, "before")])
    picky.projects.add("example/new")  # the reload that made it wanted
    configs.append(fresh_config())
    await run(d, [envelope("example/new", 1, "after")])
    assert picky.seen == ["after"]
    assert [p for _, p in picky.asked] == ["example/new", "example/new"]


async def test_events_without_a_project_reach_every_handler() -> None:
    picky = Picky(set())
    d, _ = dispatcher([picky], [fresh_config()])
    await run(d, [Envelope("reload-1", ConfigReloaded("a", "b"), "config")])
    assert picky.seen == ["reload"] and picky.asked == []


async def test_an_unwanted_event_behind_a_waiting_one_keeps_its_lane_order() -> None:
    """An event of a lane that still has events waiting is queued behind them, even
    when no plugin wants it (no handler for its class): its done mark never overtakes
    theirs, so the inbox never records a later event done before an earlier one."""
    gate = asyncio.Event()
    order: list[str] = []

    class Slow(Plugin):
        name = "slow"

        def handlers(self) -> dict[type, Any]:
            return {ev.CommentAdded: self.on_comment}

        async def on_comment(self, event: ev.CommentAdded, ctx: PluginContext
                             ) -> Sequence[Action]:
            await gate.wait()
            return ()

    d, _ = dispatcher([Slow()], [fresh_config()])

    def marked(env: Envelope, name: str) -> Envelope:
        async def mark() -> None:
            order.append(name)
        env.on_done = mark
        return env

    first = marked(envelope("example/a", 1, "first"), "first")
    parsed = ev.EventParser().parse(json.dumps(change_event("reviewer-added", "example/a", 1)))
    assert parsed is not None and parsed.event.lane == first.lane
    second = marked(Envelope(parsed.id, parsed.event, parsed.event.lane), "second")
    other = marked(Envelope(parsed.id, parsed.event, "elsewhere"), "other lane")
    assert not d.wanted(second.event)
    async with asyncio.TaskGroup() as group:
        runner = group.create_task(d.run())
        await d.submit(first)
        await d.submit(second)
        await d.submit(other)
        assert order == ["other lane"]  # an idle lane's unwanted event: done at once
        gate.set()
        await asyncio.wait_for(d.join(), 5)
        runner.cancel()
    assert order == ["other lane", "first", "second"]


# -- the built-in plugins' answers -----------------------------------------------------

def _built_in() -> tuple[list[Plugin], GovernanceConfig]:
    plugins = load_plugins(None)
    result = load_config(ROOT / "etc" / "governance",
                         PluginRegistry(plugins).config_sections())
    assert result.config is not None, result.errors
    return plugins, result.config


def _unrouted(plugin: Plugin) -> Plugin:
    """The same plugin without its `wants`: called for every event of its classes."""
    cls = type(plugin)
    return type(cls.__name__, (cls,), {"wants": Plugin.wants})()  # type: ignore[no-any-return]


def test_the_built_in_plugins_want_the_projects_their_config_names() -> None:
    plugins, config = _built_in()
    d, _ = dispatcher(plugins, [config])

    def called(data: dict[str, Any]) -> set[str]:
        parsed = ev.EventParser().parse(json.dumps(data))
        assert parsed is not None
        routed = d._routes.handlers(parsed.event, config)
        return {plugin.name for plugin, _ in routed}

    # announcements.yaml: example-tc hears example/governance, #example-dev compute+docs;
    # rules.yaml governs example/governance, example/compute, example/infra-config;
    # elections.yaml files candidacies in example/election.
    assert called(change_event("patchset-created", "example/governance", 1)) == {
        "governance", "announce"}
    assert called(change_event("patchset-created", "example/docs", 2)) == {"announce"}
    assert called(change_event("patchset-created", "example/infra-config", 3)) == {
        "governance"}
    assert called(change_event("patchset-created", "example/election", 4)) == {"elections"}
    assert called(change_event("patchset-created", "example/network", 5)) == set()
    assert called(change_event("reviewer-added", "example/docs", 6)) == set()  # not announced
    assert called(ref_updated("example/docs", "refs/tags/1.0")) == {"announce"}
    assert called(ref_updated("example/network", "refs/tags/1.0")) == set()


async def test_routing_changes_no_action_of_the_built_in_plugins() -> None:
    """5,000 events of the synthetic stream: the same actions, in the same order, with
    the plugins' `wants` as without it."""
    plugins, config = _built_in()
    lines = list(synthetic_stream(5_000, 300))
    routed = await replay(lines, plugins, config)
    plain = await replay(lines, [_unrouted(p) for p in load_plugins(None)], config)
    assert len(routed.actions) > 100
    assert routed.actions == plain.actions


# -- looking at a line before decoding it ------------------------------------------------

def _shapes() -> list[bytes]:
    """Every shape a source sends: the synthetic stream (all types, NoteDb noise),
    legacy `project: {name}` objects, webhook bodies, and lines that are not events."""
    lines = list(synthetic_stream(3_000, 200))
    lines += [json.dumps(change_event(t, "example/legacy", 9, legacy=True)).encode()
              for t in ("patchset-created", "change-merged", "hashtags-changed")]
    legacy_ref = ref_updated("example/legacy", "refs/tags/2.0")
    legacy_ref["refUpdate"]["project"] = {"name": "example/legacy"}
    lines.append(json.dumps(legacy_ref).encode())
    no_top = change_event("comment-added", "example/inner", 3)
    del no_top["project"]  # the change's own project is the one
    lines.append(json.dumps(no_top).encode())
    lines += [b'{"type": "ref-updated"}', b'{"type": "project-created", "projectName": "p"}',
              b'{"type": "comment-added", "change": {"project": 7}}', b"not json",
              b'{"type": "no-such-event", "project": "x"}', b"[]"]
    return lines


def test_the_look_before_decoding_names_the_class_and_project_the_decode_gives() -> None:
    looked, full = ev.EventParser(), ev.EventParser()
    for line in _shapes():
        seen: list[tuple[type, str | None]] = []

        def record(cls: type, project: str | None, seen: list[Any] = seen) -> bool:
            seen.append((cls, project))
            return True

        event = looked.decode_wanted(line, record)
        expected = full.decode(line)
        assert event == expected, line
        if event is not None:
            project = getattr(event, "project", None)
            assert seen == [(type(event), project if isinstance(project, str) else None)]
    assert looked.stats == full.stats  # noise, unknown and malformed counted alike


def test_an_unwanted_line_is_counted_not_decoded() -> None:
    parser = ev.EventParser()
    lines = _shapes()
    kept = [e for line in lines
            if (e := parser.decode_wanted(line, lambda c, p: p != "example/network"))]
    assert kept and all(getattr(e, "project", None) != "example/network" for e in kept)
    every = [e for line in lines if (e := ev.EventParser().decode(line))]
    on_network = [e for e in every if getattr(e, "project", None) == "example/network"]
    assert parser.stats.unwanted == len(on_network) > 100
    assert len(kept) + len(on_network) == len(every)


async def test_a_plugin_whose_wants_fails_still_gets_its_events(
        caplog: pytest.LogCaptureFixture) -> None:
    class Broken(Picky):
        def wants(self, event_type: type, project: str, ctx: PluginContext) -> bool:
            raise RuntimeError("bug in wants")

    broken = Broken(set())
    d, _ = dispatcher([broken], [fresh_config()])
    await run(d, [envelope("example/a", 1, "one"), envelope("example/a", 2, "two")])
    assert sorted(broken.seen) == ["one", "two"]
    failures = [r for r in caplog.records if "wants(CommentAdded" in r.getMessage()]
    assert len(failures) == 1 and failures[0].exc_info is not None  # once, remembered


async def test_a_long_catch_up_is_handled_as_it_is_queued_not_after() -> None:
    """2,000 events submitted in a row (a catch-up): the workers start on them while
    the source is still submitting, so in-flight work stays near the soft bound
    instead of growing to `max_pending`."""
    picky = Picky({"example/a"})
    d, _ = dispatcher([picky], [fresh_config()])
    most = 0
    async with asyncio.TaskGroup() as group:
        runner = group.create_task(d.run())
        for n in range(2_000):
            await d.submit(envelope("example/a", n, f"e{n}"))
            most = max(most, d.pending)
        await asyncio.wait_for(d.join(), 10)
        runner.cancel()
    assert len(picky.seen) == 2_000
    assert most <= 300  # max_pending is 10,000: without the soft bound all 2,000 wait
