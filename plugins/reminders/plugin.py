"""The reminders plugin: meetings about to start, votes still missing, deadlines.

It owns three parts of the governance repo: `meetings/*.yaml` (OpenDev's
irc-meetings format, checked for conflicts), `deadlines.yaml` and
`reminders.yaml`. docs/reminders.md is the reference.

How it runs. Every reminder belongs to a *stream* (a meeting slot, a deadline, a
digest; `reminders_streams`). Each stream has one pending wake-up (`WakeAt`, key =
the stream's key) for its next due reminder, and one state record (the last
instant it handled). On a `Wakeup` the plugin handles the stream: it sends what
is due (late, within the grace window, if the bot was down), drops and counts
what is older, records the new cursor, and asks for the next wake-up. Wake-ups
live in the state store, so a restart keeps the chain going; a `ConfigReloaded`
(re)schedules every stream of the new config, which is how the chain starts.

What it needs from and gives to other plugins goes through `govbot.offers`: the
digest asks for `PendingVotes` (offered by the governance plugin; without it no
digest is sent, and the log says why), and it offers `MeetingSchedules` (which
meetings a channel has scheduled around an instant, `scheduled.py`).

Order of the actions of one wake-up: the messages, then the record, then the
next wake-up. If the process dies between the first and the second, the
reminder is repeated after the restart rather than lost (the window is one
SQLite write).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from govbot.actions import Action, Notice, Remember, Say, WakeAt
from govbot.config.model import GovernanceConfig
from govbot.config.sections import ConfigFile, ConfigSection, SectionContext
from govbot.events import ConfigReloaded, Wakeup
from govbot.extensions import CliCommand, WebRoute
from govbot.offers import Deadlines, MeetingSchedules, PendingVotes
from govbot.plugin import Handler, Plugin, PluginContext, TransientReadError

from .cli import COMMANDS as CLI_COMMANDS
from .config import (
    DEADLINES_FILE,
    REMINDERS_FILE,
    Deadline,
    RemindersConfig,
    parse_deadlines,
    parse_reminders,
)
from .conflicts import find_conflicts, report_conflicts
from .digest import digest_actions, digest_bodies
from .irc_meetings import MEETINGS_PATTERN, ItemSink, parse_meeting_files
from .schedule import Meeting
from .scheduled import RemindersDeadlines, RemindersSchedules
from .settings import RemindersSettings
from .streams import (
    DeadlineStream,
    DigestStream,
    Due,
    MeetingStream,
    Progress,
    Record,
    Stream,
    advance,
    build_streams,
    deadline_text,
    meeting_text,
)

__all__ = ["RemindersPlugin", "Schedules", "parse_meetings", "schedules_of"]

log = logging.getLogger(__name__)


def parse_meetings(files: Sequence[ConfigFile], ctx: SectionContext) -> tuple[Meeting, ...]:
    meetings: tuple[Meeting, ...] = parse_meeting_files(files, ctx)
    # A conflict is about two meetings, not about govbot's own files: it fails
    # check-config (as yaml2ical's check does) and leaves the rest of the config in force.
    report_conflicts(find_conflicts(meetings), ItemSink(ctx))
    return meetings


#: Sent later than this past its time, a reminder counts as late (it says so, too).
LATE = dt.timedelta(seconds=60)

SECTIONS = (
    ConfigSection(MEETINGS_PATTERN, parse_meetings,
                  description="meeting schedules, OpenDev irc-meetings format",
                  last_key_wins=True, per_file=True),
    ConfigSection(DEADLINES_FILE, parse_deadlines, description="dated events to remind of"),
    ConfigSection(REMINDERS_FILE, parse_reminders,
                  description="reminder times, digests, ping lists, grace window"),
)


@dataclass(frozen=True, slots=True)
class Schedules:
    """The plugin's three sections of one loaded config, together."""

    meetings: tuple[Meeting, ...] = ()
    deadlines: tuple[Deadline, ...] = ()
    settings: RemindersConfig = field(default_factory=RemindersConfig)


def schedules_of(config: GovernanceConfig, plugin: str = "reminders") -> Schedules:
    parts = config.section(plugin) or {}
    if not isinstance(parts, Mapping):
        return Schedules()
    return Schedules(tuple(parts.get(MEETINGS_PATTERN) or ()),
                     tuple(parts.get(DEADLINES_FILE) or ()),
                     parts.get(REMINDERS_FILE) or RemindersConfig())


class RemindersPlugin(Plugin):
    name = "reminders"
    settings_type = RemindersSettings
    emits = (Say, Notice, WakeAt, Remember)

    def __init__(self) -> None:
        self._cache: tuple[GovernanceConfig, Schedules, dict[str, Stream]] | None = None
        #: Dues dropped since start (each stream's record keeps its own total).
        self.dropped = 0
        self.sent = 0  # reminders sent since start
        self.late = 0  # of those, sent over a minute past their time (the bot was down)

    def counters(self) -> Mapping[str, int]:
        return {"sent": self.sent, "late": self.late, "dropped": self.dropped}

    def handlers(self) -> Mapping[type, Handler]:
        return {Wakeup: self.on_wakeup, ConfigReloaded: self.on_reload}

    def config_sections(self) -> Sequence[ConfigSection]:
        return SECTIONS

    def offers(self) -> Mapping[type, object]:
        """The meeting schedules (the meetings plugin's start and topic policies, the
        board) and the deadlines (the board)."""
        return {MeetingSchedules: RemindersSchedules(
                    lambda config: schedules_of(config, self.name).meetings),
                Deadlines: RemindersDeadlines(
                    lambda config: schedules_of(config, self.name).deadlines)}

    def cli_commands(self) -> Sequence[CliCommand]:
        return CLI_COMMANDS  # `govbot ical`

    def web_routes(self) -> Sequence[WebRoute]:
        from .calendar import calendar_page  # icalendar, only where the pages are served

        return [WebRoute("GET", "/calendar.ics", calendar_page,
                         "the meetings and deadlines as iCalendar")]

    def irc_channels(self, config: GovernanceConfig) -> Iterable[str]:
        schedules = schedules_of(config, self.name)
        channels = [s.irc for m in schedules.meetings for s in m.slots if s.irc]
        channels += [c for d in schedules.deadlines for c in d.channels]
        for digest in schedules.settings.digests:
            if digest.channel:
                channels.append(digest.channel)
            channels += [c for b in digest_bodies(digest, config)
                         if (c := getattr(config.bodies.get(b), "channel", None))]
        return list(dict.fromkeys(channels))

    def streams(self, config: GovernanceConfig) -> tuple[Schedules, dict[str, Stream]]:
        if self._cache is None or self._cache[0] is not config:
            schedules = schedules_of(config, self.name)
            self._cache = (config, schedules, build_streams(
                config, schedules.meetings, schedules.deadlines, schedules.settings))
        return self._cache[1], self._cache[2]

    # -- scheduling -----------------------------------------------------------------
    async def on_reload(self, event: ConfigReloaded, ctx: PluginContext) -> Sequence[Action]:
        """Point every stream's wake-up at its next due reminder.

        A stream seen for the first time starts now (what was due before is not
        its to send); a known one continues from its cursor, so what fell due while
        the bot was down is handled at once (sent within grace, else dropped).
        """
        _, streams = self.streams(ctx.config)
        actions: list[Action] = []
        for key, stream in streams.items():
            record = Record.from_json(await ctx.state.get(key))
            if record is None:
                record = Record(ctx.now)
                actions.append(Remember(key=key, value=record.to_json()))
            upcoming = next(iter(stream.dues(record.cursor)), None)
            when = upcoming.at if upcoming else None
            # Overdue: `when` is in the past and fires at once, handled from the record
            # (sent within grace, else dropped). The scheduler versions wake-ups, so one
            # being handled right now never erases this one.
            actions.append(WakeAt(key=key, when=when))
        log.info("reminders: config %s: %d stream(s) scheduled", event.new_revision[:12],
                 len(streams))
        return actions

    async def on_wakeup(self, event: Wakeup, ctx: PluginContext) -> Sequence[Action]:
        if event.plugin != self.name:
            return ()
        schedules, streams = self.streams(ctx.config)
        stream = streams.get(event.key)
        if stream is None:
            return ()  # no longer in the config: its chain ends here
        record = Record.from_json(await ctx.state.get(event.key))
        # Without a record (state lost) the wake-up itself marks where to resume.
        cursor = record.cursor if record else event.due - dt.timedelta(seconds=1)
        grace = schedules.settings.grace.of(stream.kind)
        progress = advance(stream, cursor, ctx.now, grace)
        actions: list[Action] = []
        failed = 0
        for due in progress.send:
            sent = await self._send(stream, due, ctx)
            if sent is None:
                failed += 1
            else:
                actions += sent
                self.sent += 1
                if ctx.now - due.at > LATE:
                    self.late += 1
        dropped = (record.dropped if record else 0) + len(progress.dropped) + failed
        if progress.dropped:
            self.dropped += len(progress.dropped)
            log.warning("reminders: dropped %d reminder(s) of %s older than the %s grace "
                        "window (due %s); %d dropped for it so far", len(progress.dropped),
                        event.key, grace, ", ".join(d.at.isoformat() for d in
                                                   progress.dropped[:5]), dropped)
        self.dropped += failed  # a reminder that failed is not delivered either
        actions.append(Remember(key=event.key,
                                value=Record(progress.cursor, dropped).to_json()))
        actions.append(_next(event.key, progress))
        return actions

    async def _send(self, stream: Stream, due: Due, ctx: PluginContext
                    ) -> list[Action] | None:
        """The reminder's messages; None when it failed (logged, counted as dropped)."""
        try:
            if isinstance(stream, MeetingStream):
                return [Say(target=str(stream.slot.irc),
                            text=meeting_text(stream, due, ctx.now))]
            if isinstance(stream, DeadlineStream):
                text = deadline_text(stream, due, ctx.now)
                return [Say(target=c, text=text) for c in stream.deadline.channels]
            if isinstance(stream, DigestStream):
                # Bounded below the dispatcher's handler timeout: a handler cancelled
                # by it returns nothing, and the stream would lose its next wake-up.
                timeout = ctx.settings_as(RemindersSettings).digest_timeout
                async with asyncio.timeout(timeout):
                    return await self._digest(stream, ctx)
        except TransientReadError:
            raise  # Gerrit down: the core retries the wake-up, the digest goes out late
        except Exception:
            # The chain of wake-ups must survive a failing reminder: log, go on.
            log.exception("event %s: reminder %s of %s failed; counted as dropped",
                          ctx.event_id, due.what, stream.key)
            return None
        return []

    async def _digest(self, stream: DigestStream, ctx: PluginContext) -> list[Action]:
        votes = ctx.offer(PendingVotes)
        if votes is None:
            log.warning("reminders: digest %s not sent: it lists the governance verdicts, "
                        "and no enabled plugin offers them (enable the governance plugin)",
                        stream.key)
            return []
        bodies = digest_bodies(stream.digest, ctx.config)
        pending = await votes.pending_votes(ctx, bodies)
        actions: list[Action] = digest_actions(stream.digest, pending, ctx.config, ctx.now,
                                               ctx.settings_as(RemindersSettings), bodies)
        return actions


def _next(key: str, progress: Progress) -> WakeAt:
    return WakeAt(key=key, when=progress.next.at if progress.next else None)
