"""The meetings plugin: MeetBot's `#startmeeting` … `#endmeeting`, journaled.

MeetBot's `#cmd`s are this plugin's commands (`commands.COMMANDS`, offered to the
core's registry), so a `#cmd` line arrives as the command event of that line; every
other line of a channel arrives as an `IrcMessage`, or as the command event of
another plugin's command (`!status`), which the dispatcher shows this plugin too.
All three are one line each, in the channel's order. While a meeting is open, each
line is journaled as it arrives (`Append`), with what it did (decided once by
`commands.interpret`, as typed effects) and what the bot answered; the meeting is a pure fold
of that journal (`meetings_model.Meeting`). The in-memory cache is just that fold,
kept up to date; after a restart the open journals are folded again, and the bot
says in the channel that it resumed. After any JOIN of its own (restart, reconnect,
netsplit) the lines played back from history are journaled once, in order, and where
none reach back a gap is marked (`history.py`). A crash between `#endmeeting` and the closing
of the journal is finished at the next start (minutes written again, atomically;
Gerrit comments deduplicated by fingerprint).

`#endmeeting` returns the minutes in four formats (`WriteMinutes`, rendered here,
written by the core's minutes reporter) and one Gerrit comment per decision that
names a change. The URLs are said, and the journal closed, only on the reporter's
`MinutesWritten`, once the files exist; a `MinutesFailed` makes the bot say once that
the minutes are delayed (the reporter retries; until the files exist the journal stays
open, so a restart writes them again). Two meetings never share file names: a second
`<name>.<date>` in one minute gets a suffix (`-2`), journaled, claimed in the plugin's
state. Settings: see `meetings_config`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from govbot.actions import (
    Action,
    Append,
    MinutesFiles,
    Remember,
    Say,
    SetTopic,
    Vote,
    WakeAt,
    WriteMinutes,
)
from govbot.commands import CommandEvent
from govbot.config.model import GovernanceConfig
from govbot.config.sections import ConfigSection
from govbot.events import ConfigReloaded, MinutesFailed, MinutesWritten, Wakeup
from govbot.extensions import CliCommand, WebRoute
from govbot.irc.events import IrcJoin, IrcMessage, IrcNickChange, lane_of
from govbot.offers import MeetingSchedules
from govbot.plugin import Command, CommandCall, Handler, Plugin, PluginContext

from .cli import COMMANDS as CLI_COMMANDS
from .commands import Env, Outcome, Said, bound, interpret, of_call, parse
from .config import (
    MEETBOT_SECTION,
    Options,
    electorates,
    person_of,
)
from .decisions import decision_votes
from .effects import Effect, EndMeeting, encode
from .history import Away, Gap
from .model import Meeting, gap_text, identity_of, irc_lower
from .names import STEM_KEY, MinutesNames
from .policy import (
    ScheduleLookup,
    check_start,
    policy_for,
    scheduled_slots,
)
from .publishing import MinutesTarget
from .render import links, render, url_warning
from .settings import MeetingsSettings
from .steps import url_lines

log = logging.getLogger(__name__)

GERRIT_TIMEOUT = 20.0  # seconds for the change lookups of one meeting's decisions


class MeetingsPlugin(Plugin):
    name = "meetings"
    settings_type = MeetingsSettings
    emits = (Say, SetTopic, Append, WakeAt, Vote, WriteMinutes, Remember)

    def __init__(self, schedule: ScheduleLookup | None = None) -> None:
        self._schedule = schedule
        self._open: dict[str, Meeting] = {}  # irc_lower(channel) -> meeting in progress
        self._away = Away()  # channels the bot rejoined: what history brings back
        self._loaded = False
        self._load_lock: asyncio.Lock | None = None
        self._to_resume: dict[str, list[Meeting]] = {}  # found open at start, not yet told
        self._to_finish: dict[str, list[Meeting]] = {}  # ended, but the journal not closed
        self._writing: dict[str, Meeting] = {}  # journal id -> ended, its minutes not written
        self._delayed: set[str] = set()  # of those, the ones the channel was told about
        self._names = MinutesNames()  # the minutes' file names claimed (names.py)

    def handlers(self) -> Mapping[type, Handler]:
        return {IrcMessage: self.on_message, CommandEvent: self.on_other_command,
                IrcNickChange: self.on_nick, IrcJoin: self.on_join, Wakeup: self.on_wakeup,
                ConfigReloaded: self.on_start, MinutesWritten: self.on_minutes_written,
                MinutesFailed: self.on_minutes_failed}

    def commands(self) -> Sequence[Command]:
        return bound(self.on_meetbot)

    def config_sections(self) -> Sequence[ConfigSection]:
        return [MEETBOT_SECTION]

    def cli_commands(self) -> Sequence[CliCommand]:
        return CLI_COMMANDS  # `govbot minutes`

    def web_routes(self) -> Sequence[WebRoute]:
        from .web import web_routes  # the record's pages: /meetings/, search, the files

        return web_routes()

    def irc_channels(self, config: GovernanceConfig) -> Iterable[str]:
        """Channels with a meeting in progress (rejoined after a reconnect)."""
        return [m.channel for m in self._open.values() if m.channel]

    def meeting_in(self, channel: str) -> Meeting | None:
        return self._open.get(irc_lower(channel))

    # -- events ---------------------------------------------------------------------------
    async def on_message(self, event: IrcMessage, ctx: PluginContext) -> Sequence[Action]:
        """A line that is no command: chatter, a `/me`, a NOTICE."""
        return await self._line(event, None, ctx)

    async def on_meetbot(self, call: CommandCall, ctx: PluginContext) -> Sequence[Action]:
        """A `#cmd` line (one of `commands.COMMANDS`), parsed by the core."""
        assert call.message is not None  # always set by the core's router
        return await self._line(call.message, of_call(call), ctx)

    async def on_other_command(self, event: CommandEvent, ctx: PluginContext
                               ) -> Sequence[Action]:
        """Another plugin's command said in the channel (`!status`): a plain line here."""
        return await self._line(event.message, None, ctx)

    async def _line(self, event: IrcMessage, parsed: tuple[str, str] | None,
                    ctx: PluginContext) -> Sequence[Action]:
        if event.channel is None:
            return ()
        channel, key = event.channel, irc_lower(event.channel)
        actions = await self._prepare(key, ctx)
        meeting = self._open.get(key)
        if event.history:  # played back after the bot was away (see history.py)
            if meeting is None or not self._away.new(key, meeting, event):
                return actions
            parsed = parse(event.text)  # the core runs no command from history
        elif meeting is not None:
            actions += self._gap_entry(meeting, self._away.settle(key, meeting), ctx)
        starting = parsed is not None and parsed[0] == "startmeeting"
        if meeting is None and not (starting and not event.action and not event.notice):
            return actions  # chatter outside meetings is not recorded
        opts = Options.of(ctx.settings_as(MeetingsSettings))
        said = Said(channel, event.time, event.nick, event.account, event.text,
                    event.action, event.notice)
        env = await self._env(meeting, said, parsed, opts, ctx)
        out = interpret(meeting, said, env, parsed)
        if meeting is None:
            if not out.started:
                return [*actions, *self._say(channel, out.said)]
            meeting = Meeting(_journal_id(channel, event.time, ctx.event_id))
            self._topic_note(channel, env, out, ctx)
        entry = _line_entry(said, env.identity, out, event)
        meeting.apply(entry)
        actions.append(Append(journal=meeting.id, entry=entry))
        if out.end or out.save:
            actions += self._claim(meeting, ctx)
        said_now = out.said
        if out.end:
            actions += self._minutes(meeting, opts, ctx, final=True)
            # The URLs are journaled with the line (the log shows them where MeetBot
            # does) but said on MinutesWritten: never before the files exist.
            held = set(url_lines(links(meeting, opts.minutes_url)))
            said_now = [t for t in out.said if t not in held]
        actions += self._say(channel, said_now)
        if out.topic is not None and self._may_set_topic(meeting, ctx):
            actions.append(SetTopic(channel=channel, topic=out.topic))
        if out.started:
            self._open[key] = meeting
            actions.append(WakeAt(key=meeting.id, when=event.time + opts.orphan_after,
                                  lane=lane_of(channel)))
        if out.save:
            actions += self._minutes(meeting, opts, ctx)
        if out.end:
            del self._open[key]
            actions += await self._finish(meeting, opts, ctx, written=True)
        return actions

    async def on_minutes_written(self, event: MinutesWritten, ctx: PluginContext
                                 ) -> Sequence[Action]:
        """The final minutes exist: say their URLs (as MeetBot at #endmeeting), close."""
        if event.plugin != self.name or event.key not in self._writing:
            return ()
        meeting = self._writing.pop(event.key)
        delayed = event.key in self._delayed
        self._delayed.discard(event.key)
        texts: list[str] = []
        if not meeting.restricted and not meeting.lurk:
            opts = Options.of(ctx.settings_as(MeetingsSettings))
            if delayed:
                texts.append(f"The minutes of the meeting '{meeting.name}' are written now.")
            texts += url_lines(links(meeting, opts.minutes_url))
        # Closed last: if the bot dies before this, the next start writes them again.
        return [*self._say(meeting.channel, texts), Append(journal=meeting.id, close=True)]

    async def on_minutes_failed(self, event: MinutesFailed, ctx: PluginContext
                                ) -> Sequence[Action]:
        """Tell the channel once that the minutes are late (the reporter retries)."""
        if event.plugin != self.name or event.key not in self._writing \
                or event.key in self._delayed:
            return ()
        self._delayed.add(event.key)
        meeting = self._writing[event.key]
        if meeting.lurk:
            return ()
        if event.retry_in is None:
            text = (f"The minutes of the meeting '{meeting.name}' could not be written "
                    f"({event.error}); its journal is kept, so they can be written with "
                    "`govbot minutes`.")
        else:
            text = (f"The minutes of the meeting '{meeting.name}' are delayed: they could "
                    f"not be written ({event.error}). Retrying; the links follow once "
                    "they are written.")
        return self._say(meeting.channel, [text])

    async def on_nick(self, event: IrcNickChange, ctx: PluginContext) -> Sequence[Action]:
        key = irc_lower(event.channel)
        actions = await self._prepare(key, ctx)
        meeting = self._open.get(key)
        if meeting is None:
            return actions
        entry = {"type": "nick", "time": event.time.isoformat(), "old": event.old,
                 "new": event.new}
        meeting.apply(entry)
        return [*actions, Append(journal=meeting.id, entry=entry)]

    async def on_join(self, event: IrcJoin, ctx: PluginContext) -> Sequence[Action]:
        # The bot's own JOIN after a restart is the first event of the channel: the
        # moment to say that an interrupted meeting goes on. After any own JOIN (restart,
        # reconnect, netsplit) the lines said meanwhile may be played back; until the
        # first live line, what was missed is not known (history.py).
        key = irc_lower(event.channel)
        actions = await self._prepare(key, ctx)
        meeting = self._open.get(key)
        if meeting is not None and irc_lower(event.nick) == irc_lower(ctx.bot_nick):
            self._away.rejoined(key, meeting, event.time)
        return actions

    def _gap_entry(self, meeting: Meeting, gap: Gap | None, ctx: PluginContext
                   ) -> list[Action]:
        """The gap marker in the journal (log and minutes), said once in the channel."""
        if gap is None:
            return []
        entry: dict[str, Any] = {"type": "gap", "time": ctx.now.isoformat(),
                                 "from": gap.start.isoformat(), "to": gap.end.isoformat()}
        if not meeting.lurk:
            entry["said"] = [f"Note: {gap_text(gap.start, gap.end)} (it was away and no "
                             "channel history covered them): they are not in the log or "
                             "the minutes."]
        meeting.apply(entry)
        return [Append(journal=meeting.id, entry=entry),
                *self._say(meeting.channel, entry.get("said", ()))]

    async def on_wakeup(self, event: Wakeup, ctx: PluginContext) -> Sequence[Action]:
        if event.plugin != self.name:
            return ()
        key = event.key.rsplit("/", 1)[0]
        actions = await self._prepare(key, ctx)
        meeting = self._open.get(key)
        if meeting is None or meeting.id != event.key:
            return actions
        opts = Options.of(ctx.settings_as(MeetingsSettings))
        last = meeting.last_chair_time or meeting.started or ctx.now
        if ctx.now - last < opts.orphan_after:
            return [*actions, WakeAt(key=meeting.id, when=last + opts.orphan_after,
                                     lane=lane_of(meeting.channel))]
        minutes = int(opts.orphan_after.total_seconds() // 60)
        text = (f"No chair has spoken in this meeting for {minutes} minutes: anyone may "
                "now end it with #endmeeting.")
        return [*actions, *self._bot_entry(meeting, [text], ctx.now)]

    # -- what a line needs looked up --------------------------------------------------------
    async def _env(self, meeting: Meeting | None, said: Said, parsed: tuple[str, str] | None,
                   opts: Options, ctx: PluginContext) -> Env:
        config = ctx.config
        identity = identity_of(said.account, said.nick, opts.trust_nicks)
        person = person_of(config, said.account, said.nick, opts.trust_nicks)
        command, arg = parsed or ("", "")
        resolved: dict[str, str | None] = {}
        present: dict[str, bool] = {}
        start = None
        channel_topic = None
        if meeting is not None and command in ("chair", "unchair") \
                and meeting.is_chair(identity) and ctx.irc is not None:
            for nick in {n for n in arg.replace(",", " ").split() if n}:
                account = await ctx.irc.account_of(nick)
                resolved[irc_lower(nick)] = identity_of(account, nick, opts.trust_nicks)
                here = ctx.irc.in_channel(said.channel, nick)
                if here is not None:
                    present[irc_lower(nick)] = here
        if meeting is None and command == "startmeeting":
            channel_topic = ctx.irc.topic_of(said.channel) if ctx.irc is not None else None
            schedule = self._schedule or _default_schedule(opts, ctx)
            slots = schedule(config, said.channel, ctx.now)
            policy = policy_for(ctx.settings_as(MeetingsSettings), said.channel)
            start = check_start(policy, slots, config, said.channel, arg,
                                account=said.account, nick=said.nick, person=person)
        return Env(now=ctx.now, identity=identity, person=person.id if person else None,
                   trust_nicks=opts.trust_nicks, orphan_after=opts.orphan_after,
                   resolved=resolved, can_resolve=ctx.irc is not None, start=start,
                   bodies=electorates(config) if command in ("startvote", "motion") else {},
                   channel_topic=channel_topic, present=present,
                   links=lambda m: links(m, opts.minutes_url, self._names.free_suffix(m)))

    def _may_set_topic(self, meeting: Meeting, ctx: PluginContext) -> bool:
        policy = policy_for(ctx.settings_as(MeetingsSettings), meeting.channel).topic
        return policy == "always" or (policy == "sanctioned" and bool(meeting.sanctioned))

    def _topic_note(self, channel: str, env: Env, out: Outcome, ctx: PluginContext) -> None:
        policy = policy_for(ctx.settings_as(MeetingsSettings), channel).topic
        if out.said and policy == "sanctioned" and not (env.start and env.start.sanctioned):
            out.said.append("This meeting will not change the channel topic: it is not a "
                            "scheduled meeting of this channel.")

    async def on_start(self, event: ConfigReloaded, ctx: PluginContext) -> Sequence[Action]:
        """At start-up (the core's first ConfigReloaded), resume interrupted meetings at
        once: say so in their channels (which makes the bot join them) instead of
        waiting for someone to speak there."""
        if event.old_revision:
            return ()  # a later reload: the journals were read at start
        warning = url_warning(ctx.settings_as(MeetingsSettings).minutes_url)
        if warning:
            log.warning("meetings: %s", warning)
        await self._load(ctx)
        actions: list[Action] = []
        for key in sorted({*self._to_resume, *self._to_finish}):
            actions += await self._prepare(key, ctx)
        return actions

    # -- restart: fold the open journals once ----------------------------------------------
    async def _prepare(self, key: str, ctx: PluginContext) -> list[Action]:
        if not self._loaded:
            await self._load(ctx)
        actions: list[Action] = []
        opts = None
        for meeting in self._to_finish.pop(key, ()):
            opts = opts or Options.of(ctx.settings_as(MeetingsSettings))
            actions += self._bot_entry(meeting, ["The minutes of this meeting were not all "
                                                 "written before a restart; writing them "
                                                 "now."], ctx.now)
            actions += await self._finish(meeting, opts, ctx)
        for meeting in self._to_resume.pop(key, ()):
            text = (f"Resuming the meeting '{meeting.name}' after a restart of the bot "
                    f"(started by {meeting.owner_nick}; {meeting.human_lines} lines kept). "
                    "Carry on.")
            actions += self._bot_entry(meeting, [text], ctx.now)
        return actions

    async def _load(self, ctx: PluginContext) -> None:
        if self._load_lock is None:
            self._load_lock = asyncio.Lock()
        async with self._load_lock:
            if self._loaded:
                return
            self._names.load(await ctx.state.items(STEM_KEY))
            meetings = []
            for name in await ctx.state.open_journals():
                entries = await ctx.state.journal(name)
                meeting = Meeting.fold(name, entries)
                if meeting.is_started:
                    meetings.append(meeting)
            meetings.sort(key=lambda m: m.started or ctx.now, reverse=True)  # newest wins
            for meeting in meetings:
                key = irc_lower(meeting.channel)
                if meeting.ended is not None or key in self._open:
                    # A second open meeting in one channel cannot happen live; if the
                    # journals say so, the older one is ended where it stopped.
                    if meeting.ended is None:
                        meeting.apply(_bot(EndMeeting(), ctx.now))
                    self._to_finish.setdefault(key, []).append(meeting)
                    continue
                self._open[key] = meeting
                self._to_resume.setdefault(key, []).append(meeting)
            if meetings:
                log.info("meetings: %d open journal(s) folded after a start", len(meetings))
            self._loaded = True

    # -- saying, writing and finishing ----------------------------------------------------
    def _say(self, channel: str, texts: Iterable[str]) -> list[Action]:
        # Lurking is decided by the interpreter: a lurking meeting's `said` is empty.
        return [Say(target=channel, text=t) for t in texts]

    def _bot_entry(self, meeting: Meeting, texts: list[str], now: dt.datetime
                   ) -> list[Action]:
        if meeting.lurk:
            return []
        entry = {"type": "bot", "time": now.isoformat(), "said": texts}
        meeting.apply(entry)
        return [Append(journal=meeting.id, entry=entry),
                *self._say(meeting.channel, texts)]

    def _claim(self, meeting: Meeting, ctx: PluginContext) -> list[Action]:
        return self._names.claim(meeting, ctx.now)  # names.py: never two meetings' files

    def _minutes(self, meeting: Meeting, opts: Options, ctx: PluginContext, *,
                 final: bool = False) -> list[Action]:
        # The operator's `bot_nick` setting wins; else the bot's own nick, a core fact.
        settings = ctx.settings_as(MeetingsSettings)
        bot_nick = settings.bot_nick or ctx.bot_nick
        files = render(meeting, bot_nick=bot_nick, url_base=opts.minutes_url, now=ctx.now)
        target = MinutesTarget.of(settings)
        if final:  # the reporter says how it went: the URLs and the close wait for it
            self._writing[meeting.id] = meeting
        return [WriteMinutes(meeting=meeting.name, files=MinutesFiles(files),
                             url_base=opts.minutes_url, restricted=meeting.restricted,
                             directory=target.directory, git=target.git,
                             key=meeting.id if final else "",
                             lane=lane_of(meeting.channel) if final else "")]

    async def _finish(self, meeting: Meeting, opts: Options, ctx: PluginContext, *,
                      written: bool = False) -> list[Action]:
        actions: list[Action] = [] if written else [
            *self._claim(meeting, ctx), *self._minutes(meeting, opts, ctx, final=True)]
        if not meeting.restricted:
            # Bounded well below the dispatcher's handler timeout: the meeting is already
            # ended in the cache, and its journal must be closed whatever Gerrit does.
            try:
                async with asyncio.timeout(GERRIT_TIMEOUT):
                    actions += await decision_votes(meeting, ctx.gerrit,
                                                    links(meeting, opts.minutes_url),
                                                    gerrit_url=opts.gerrit_url)
            except TimeoutError:
                log.error("meeting %s: Gerrit did not answer within %.0f s; its decisions "
                          "are not commented on", meeting.id, GERRIT_TIMEOUT)
        # The journal is closed on MinutesWritten: until the files exist, a restart
        # finishes the job.
        actions.append(WakeAt(key=meeting.id, when=None))
        return actions


def _default_schedule(opts: Options, ctx: PluginContext) -> ScheduleLookup:
    schedules = ctx.offer(MeetingSchedules)  # the reminders plugin's; None without it

    def lookup(config: GovernanceConfig, channel: str, now: dt.datetime) -> list[Any]:
        return scheduled_slots(schedules, config, channel, now, grace=opts.start_grace)
    return lookup


def _journal_id(channel: str, when: dt.datetime, event_id: str) -> str:
    # The channel first: after a restart the channel of a journal is known from its name.
    stamp = when.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S")
    digest = hashlib.sha1(event_id.encode(), usedforsecurity=False).hexdigest()[:6]
    return f"{irc_lower(channel)}/{stamp}-{digest}"


def _line_entry(said: Said, identity: str | None, out: Outcome, event: IrcMessage
                ) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": "line", "time": said.time.isoformat(), "nick": said.nick,
                             "account": said.account, "id": identity, "text": said.text}
    if event.msgid:
        entry["msgid"] = event.msgid
    if event.history:
        entry["history"] = True
    if said.action:
        entry["action"] = True
    if said.notice:
        entry["notice"] = True
    if out.fx:
        entry["fx"] = [encode(fx) for fx in out.fx]
    if out.said:
        entry["said"] = list(out.said)
    return entry


def _bot(fx: Effect, now: dt.datetime) -> dict[str, Any]:
    return {"type": "bot", "time": now.isoformat(), "fx": [encode(fx)],
            "said": ["The meeting was ended by the bot: a newer one started in this channel."]}
