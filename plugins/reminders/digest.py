"""Pending-vote digests: the governance plugin's pending changes, as IRC messages.

The changes come from the plugin that offers `govbot.offers.PendingVotes` (the
governance plugin: its verdicts, evaluated exactly as for its votes); this module
only renders them. Every pending change is listed under the body its rule
names: the change, the rule, what is missing, who has not voted, the earliest
approval time. One message per channel (bodies sharing a channel share it).

Then each member who has not voted on a change whose waiting period is over (the
verdict has no time bound left, or it has passed) gets one direct NOTICE listing
those changes, unless they opted out in people.yaml (`reminders: false`) or have
no IRC nick there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from govbot.actions import Action, Notice, Say
from govbot.config.model import GovernanceConfig
from govbot.offers import PendingChange

from .config import Digest
from .settings import RemindersSettings

__all__ = ["digest_actions", "digest_bodies", "format_time"]


def digest_bodies(digest: Digest, config: GovernanceConfig) -> list[str]:
    if digest.bodies:
        return list(digest.bodies)
    return [b.id for b in config.bodies.values() if b.channel or digest.channel]


def format_time(moment: dt.datetime) -> str:
    """'2026-11-29 10:00 UTC', as the governance messages show it: rounded UP to the
    minute, so a time shown as "earliest" is never earlier than the real one."""
    moment = moment.astimezone(dt.UTC)
    if moment.second or moment.microsecond:
        moment = moment.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _link(pending: PendingChange, settings: RemindersSettings) -> str:
    base = settings.review_url.rstrip("/")
    if not base:
        return ""
    return f" {base}/c/{pending.project}/+/{pending.number}"


def change_line(pending: PendingChange, settings: RemindersSettings) -> str:
    waiting = "; ".join(pending.waiting)
    earliest = (format_time(pending.earliest) if pending.earliest is not None
                else "as soon as the votes are in")
    return (f"- {pending.key} \"{pending.subject}\" (rule {pending.rule}): {waiting}; "
            f"not voted: {', '.join(v.name for v in pending.missing)}; "
            f"earliest approval: {earliest}{_link(pending, settings)}")


def digest_actions(digest: Digest, pending: Sequence[PendingChange], config: GovernanceConfig,
                   now: dt.datetime, settings: RemindersSettings,
                   bodies: Sequence[str]) -> list[Action]:
    """One Say per channel, then one Notice per member whose vote is overdue."""
    by_channel: dict[str, list[str]] = {}
    for body_id in bodies:
        body = config.bodies.get(body_id)
        channel = digest.channel or (body.channel if body else None)
        listed = [p for p in pending if p.body == body_id]
        if body is None or channel is None or not listed:
            continue
        lines = by_channel.setdefault(channel, [])
        lines.append(f"Votes awaited from the {body.name}: {len(listed)} "
                     f"change{'s' if len(listed) != 1 else ''}")
        lines += [change_line(p, settings) for p in listed]
    actions: list[Action] = [Say(target=channel, text="\n".join(lines))
                             for channel, lines in by_channel.items()]
    if digest.direct:
        actions += direct_reminders(pending, config, now, settings)
    return actions


def direct_reminders(pending: Sequence[PendingChange], config: GovernanceConfig,
                     now: dt.datetime, settings: RemindersSettings) -> list[Action]:
    owed: dict[str, list[PendingChange]] = {}
    for item in pending:
        if not item.overdue(now):
            continue
        for voter in item.missing:
            if voter.person is not None:
                owed.setdefault(voter.person, []).append(item)
    actions: list[Action] = []
    for person_id, items in owed.items():
        person = config.people.get(person_id)
        if person is None or not person.reminders or not person.irc_nick:
            continue
        listed = "; ".join(f"{p.key} \"{p.subject}\" (rule {p.rule}){_link(p, settings)}"
                           for p in items)
        count = f"{len(items)} change{'s' if len(items) != 1 else ''}"
        actions.append(Notice(target=person.irc_nick, text=(
            f"{person.name}, your vote is awaited on {count} whose waiting period is over: "
            f"{listed}")))
    return actions
