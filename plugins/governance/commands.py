"""The governance plugin's chat commands: `status CHANGE` and `pending`.

Both judge by the same merged rules as the votes, reading the changes over REST.
Replies are short and go where the command was given (priority over announcements).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from govbot.actions import Action, Say
from govbot.config.model import GovernanceConfig
from govbot.plugin import Command, CommandCall, CommandHandler, PluginContext

from .ballot import PeopleIndex
from .change import ChangeState
from .ci import DEFAULT_CI, CiDefaults
from .evaluate import evaluate
from .model import RulesConfig
from .verdict import UNGOVERNED, Verdict

MAX_LISTED = 5
_URL = re.compile(r"/c/(?P<project>.+?)/\+/(?P<number>\d+)")


def change_key(text: str) -> str | None:
    """A change as people write it: 123, project~123, or a Gerrit URL."""
    text = text.strip()
    found = _URL.search(text)
    if found:
        return f"{found['project']}~{found['number']}"
    if text.isdigit() or re.fullmatch(r"[\w./-]+~\d+", text):
        return text
    return None


def one_line(verdict: Verdict, subject: str = "") -> str:
    waiting = "; ".join(r.text for r in verdict.reasons if r.status != "met")
    missing = ", ".join(m.name for m in verdict.missing[:MAX_LISTED])
    if len(verdict.missing) > MAX_LISTED:
        missing += f" and {len(verdict.missing) - MAX_LISTED} more"
    parts = [f"{verdict.project}~{verdict.number}"
             + (f" ({subject})" if subject else "")
             + f": {verdict.state.upper()}" + (f" under {verdict.rule}" if verdict.rule else "")]
    if waiting:
        parts.append(waiting)
    if missing:
        parts.append(f"not voted: {missing}")
    if verdict.earliest and verdict.state != "ready":
        parts.append(f"earliest {verdict.earliest:%Y-%m-%d %H:%M} UTC")
    return " — ".join(parts)


def commands(rules_of: Callable[[GovernanceConfig], RulesConfig | None],
             people_of: Callable[[GovernanceConfig], PeopleIndex]) -> list[Command]:
    async def status(call: CommandCall, ctx: PluginContext) -> Sequence[Action]:
        key = change_key(call.args)
        if key is None:
            return [_reply(call, "usage: status CHANGE (a number, project~number or URL)")]
        rules = rules_of(ctx.config)
        info = await ctx.gerrit.get_change(key)
        if info is None or rules is None:
            return [_reply(call, f"change {key} not found" if info is None
                           else "no governance rules are loaded")]
        verdict = evaluate(ChangeState.from_change_info(info), ctx.config, rules, ctx.now,
                           people=people_of(ctx.config), ci=ci_defaults(ctx))
        if verdict.state == UNGOVERNED:
            return [_reply(call, f"{verdict.project}~{verdict.number}: no rule governs it")]
        return [_reply(call, one_line(verdict, str(info.get("subject", ""))))]

    async def pending(call: CommandCall, ctx: PluginContext) -> Sequence[Action]:
        if call.person is None:
            return [_reply(call, "I do not know you: your services account is not in the "
                                 "governance config's people.yaml")]
        rules = rules_of(ctx.config)
        if rules is None:
            return [_reply(call, "no governance rules are loaded")]
        people = people_of(ctx.config)
        waiting: list[str] = []
        for info in await ctx.gerrit.query("status:open", limit=5000):
            verdict = evaluate(ChangeState.from_change_info(info), ctx.config, rules,
                               ctx.now, people=people, ci=ci_defaults(ctx))
            if any(m.person == call.person.id for m in verdict.missing):
                waiting.append(f"{verdict.project}~{verdict.number} "
                               f"({info.get('subject', '')}, {verdict.rule})")
        if not waiting:
            return [_reply(call, "nothing is waiting on your vote")]
        shown = "; ".join(waiting[:MAX_LISTED])
        more = f" and {len(waiting) - MAX_LISTED} more" if len(waiting) > MAX_LISTED else ""
        return [_reply(call, f"waiting on your vote: {shown}{more}")]

    handlers: list[tuple[str, CommandHandler, str, str, tuple[str, ...]]] = [
        ("status", status, "status CHANGE",
         "The governance verdict on a change: the rule, what is missing, who has not voted.",
         ("status 12345", "status example/governance~12345")),
        ("pending", pending, "pending",
         "The open governed changes waiting on your vote (you must be logged in to services).",
         ("pending",)),
    ]
    return [Command(name=name, handler=handler, usage=usage, description=description,
                    examples=examples) for name, handler, usage, description, examples
            in handlers]


def ci_defaults(ctx: PluginContext) -> CiDefaults:
    """Zuul's account and label from the operator's zuul: settings, when Zuul is known."""
    if ctx.ci is None:
        return DEFAULT_CI
    return CiDefaults(label=ctx.ci.verified_label, account=ctx.ci.gerrit_username)


def _reply(call: CommandCall, text: str) -> Say:
    return Say(target=call.reply_to, text=f"{call.nick}: {text}", priority=True)
