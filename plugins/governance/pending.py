"""The changes still waiting on votes, offered to other plugins (`govbot.offers.PendingVotes`).

The reminders plugin's digest asks for them at its digest times. The open changes
the rules of the bodies asked about could select are read from Gerrit with one
paged query; each is evaluated exactly as the governance plugin evaluates it for
its vote (`evaluate`, with the same CI reading), and every change whose verdict is
*pending* and still misses votes is answered as plain data (`PendingChange`):
what the rule waits for, who has not voted, the earliest approval time.
Work-in-progress changes are left out: they are not up for votes yet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from govbot.config.model import GovernanceConfig
from govbot.offers import MissingVoter, PendingChange
from govbot.plugin import PluginContext
from govbot.zuul.model import CiReader

from .ballot import PeopleIndex
from .change import ChangeState
from .ci import DEFAULT_CI, CiDefaults
from .evaluate import evaluate
from .model import RulesConfig
from .verdict import PENDING

__all__ = ["QUERY_LIMIT", "GovernancePending", "pending_changes", "pending_query"]

QUERY_LIMIT = 20_000  # open changes read for one answer: far above any real backlog


def pending_query(rules: RulesConfig, bodies: Iterable[str]) -> str:
    """One query for the open changes the bodies' rules could select ("": none)."""
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


def _ci_defaults(reader: CiReader | None) -> CiDefaults:
    # The same CI reading as the plugin's votes, so the digest agrees with them.
    if reader is None:
        return DEFAULT_CI
    return CiDefaults(label=reader.verified_label, account=reader.gerrit_username)


async def pending_changes(ctx: PluginContext, rules: RulesConfig, bodies: Sequence[str], *,
                          people: PeopleIndex | None = None) -> list[PendingChange]:
    """The pending changes governed by a rule of one of `bodies`, by project and number."""
    query = pending_query(rules, bodies)
    if not query:
        return []
    infos = await ctx.gerrit.query(query, limit=QUERY_LIMIT)
    people = people or PeopleIndex.of(ctx.config.people)
    ci = _ci_defaults(ctx.ci)
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
        found.append(PendingChange(
            project=change.project, number=change.number,
            subject=str(info.get("subject") or ""), body=rule.body, rule=verdict.rule,
            waiting=tuple(r.text for r in verdict.reasons if r.status == PENDING),
            missing=tuple(MissingVoter(v.name, v.person) for v in verdict.missing),
            earliest=verdict.earliest))
    found.sort(key=lambda p: (p.project, p.number))
    return found


class GovernancePending:
    """The governance plugin's `PendingVotes`: its rules, from the asker's config."""

    def __init__(self, rules: Callable[[GovernanceConfig], RulesConfig | None],
                 people: Callable[[GovernanceConfig], PeopleIndex]) -> None:
        self._rules = rules
        self._people = people

    async def pending_votes(self, ctx: PluginContext, bodies: Sequence[str]
                            ) -> Sequence[PendingChange]:
        rules = self._rules(ctx.config)
        if rules is None:
            return []  # no rules loaded: nothing is governed, so nothing waits on votes
        return await pending_changes(ctx, rules, bodies, people=self._people(ctx.config))
