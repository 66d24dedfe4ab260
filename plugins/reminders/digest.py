"""Pending-vote digests, from the governance plugin's own verdicts.

At a digest's time the open changes the governance rules could select are read
from Gerrit (one paged query), each is evaluated exactly as the governance plugin
evaluates it (`governance_eval.evaluate`), and every change whose verdict is
*pending* and still misses votes is listed under the body its rule names: the
change, the rule, what is missing, who has not voted, the earliest approval time.
One message per channel (bodies sharing a channel share it). Work-in-progress
changes are left out: they are not up for votes yet.

Then each member who has not voted on a change whose waiting period is over (the
verdict has no time bound left, or it has passed) gets one direct NOTICE listing
those changes, unless they opted out in people.yaml (`reminders: false`) or have
no IRC nick there.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from govbot.actions import Action, Notice, Say
from govbot.config.model import GovernanceConfig
from govbot.plugin import PluginContext
from govbot.plugins.governance.ballot import PeopleIndex
from govbot.plugins.governance.change import ChangeState, format_time
from govbot.plugins.governance.ci import DEFAULT_CI, CiDefaults
from govbot.plugins.governance.evaluate import evaluate
from govbot.plugins.governance.model import RulesConfig
from govbot.plugins.governance.verdict import PENDING, Verdict

from .config import Digest
from .settings import RemindersSettings

__all__ = ["Pending", "digest_actions", "digest_query", "pending_changes"]

log = logging.getLogger(__name__)
QUERY_LIMIT = 20_000


@dataclass(frozen=True, slots=True)
class Pending:
    """A change waiting on votes, with the verdict that says so."""

    change: ChangeState
    subject: str
    verdict: Verdict
    body: str  # the id of the body whose rule governs it

    @property
    def key(self) -> str:
        return f"{self.change.project}~{self.change.number}"

    def overdue(self, now: dt.datetime) -> bool:
        """The waiting period is over: only votes are missing now."""
        return self.verdict.earliest is None or self.verdict.earliest <= now


def digest_bodies(digest: Digest, config: GovernanceConfig) -> list[str]:
    if digest.bodies:
        return list(digest.bodies)
    return [b.id for b in config.bodies.values() if b.channel or digest.channel]


def digest_query(rules: RulesConfig, bodies: Iterable[str]) -> str:
    """One query for the open changes the bodies' rules could select."""
    wanted = set(bodies)
    names: set[str] = set()
    for rule in rules.rules:
        if rule.body not in wanted:
            continue
        projects = rule.select.projects
        if projects.empty or projects.patterns:
            return "status:open"  # a regex or "any project": filter here, not in Gerrit
        names.update(projects.exact)
    if not names:
        return ""
    return "status:open (" + " OR ".join(f"project:{n}" for n in sorted(names)) + ")"


def _ci(ctx: PluginContext) -> CiDefaults:
    reader = getattr(ctx, "ci", None)  # the same CI reading as the governance plugin
    if reader is None:
        return DEFAULT_CI
    return CiDefaults(label=reader.verified_label, account=reader.gerrit_username)


async def pending_changes(ctx: PluginContext, rules: RulesConfig, bodies: Sequence[str]
                          ) -> list[Pending]:
    query = digest_query(rules, bodies)
    if not query:
        return []
    infos = await ctx.gerrit.query(query, limit=QUERY_LIMIT)
    people = PeopleIndex.of(ctx.config.people)
    ci = _ci(ctx)
    found = []
    for info in infos:
        change = ChangeState.from_change_info(info)
        if not change.is_open or change.wip:
            continue
        verdict = evaluate(change, ctx.config, rules, ctx.now, people=people, ci=ci)
        if verdict.state != PENDING or not verdict.missing or verdict.rule is None:
            continue
        rule = rules.rule(verdict.rule)
        if rule is None or rule.body is None or rule.body not in bodies:
            continue
        found.append(Pending(change, str(info.get("subject") or ""), verdict, rule.body))
    found.sort(key=lambda p: (p.change.project, p.change.number))
    return found


def _link(pending: Pending, settings: RemindersSettings) -> str:
    base = settings.review_url.rstrip("/")
    if not base:
        return ""
    return f" {base}/c/{pending.change.project}/+/{pending.change.number}"


def change_line(pending: Pending, settings: RemindersSettings) -> str:
    verdict = pending.verdict
    waiting = "; ".join(r.text for r in verdict.reasons if r.status == PENDING)
    earliest = (format_time(verdict.earliest) if verdict.earliest is not None
                else "as soon as the votes are in")
    return (f"- {pending.key} \"{pending.subject}\" (rule {verdict.rule}): {waiting}; "
            f"not voted: {', '.join(v.name for v in verdict.missing)}; "
            f"earliest approval: {earliest}{_link(pending, settings)}")


def digest_actions(digest: Digest, pending: Sequence[Pending], config: GovernanceConfig,
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


def direct_reminders(pending: Sequence[Pending], config: GovernanceConfig,
                     now: dt.datetime, settings: RemindersSettings) -> list[Action]:
    owed: dict[str, list[Pending]] = {}
    for item in pending:
        if not item.overdue(now):
            continue
        for voter in item.verdict.missing:
            if voter.person is not None:
                owed.setdefault(voter.person, []).append(item)
    actions: list[Action] = []
    for person_id, items in owed.items():
        person = config.people.get(person_id)
        if person is None or not person.reminders or not person.irc_nick:
            continue
        listed = "; ".join(f"{p.key} \"{p.subject}\" (rule {p.verdict.rule}){_link(p, settings)}"
                           for p in items)
        count = f"{len(items)} change{'s' if len(items) != 1 else ''}"
        actions.append(Notice(target=person.irc_nick, text=(
            f"{person.name}, your vote is awaited on {count} whose waiting period is over: "
            f"{listed}")))
    return actions
