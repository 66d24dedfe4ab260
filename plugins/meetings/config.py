"""The meetings plugin's configuration: `meetbot.yaml` in the governance repo, and the
operator's `plugins.settings.meetings`.

`meetbot.yaml` (community-owned, reviewed like the rest of the governance rules)
holds how bound votes are decided, per body::

    votes:
      tc: {quorum: ceil(n/2), threshold: majority}
      infra-council: {quorum: floor(n/2)+1, threshold: ceil(n/2)}

A body without an entry gets quorum `ceil(n/2)` and threshold `majority`.

Operator settings (`plugins.settings.meetings`): typed in settings.py; `Options`
is what a handler derives from them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from govbot.config.model import GovernanceConfig, Person
from govbot.config.schema import AnyValue, Field, MapOf, Schema, Str, describe
from govbot.config.sections import ConfigFile, ConfigSection, SectionContext
from govbot.config.yamlpos import source_of

from .commands import Electorate
from .model import irc_lower
from .settings import MeetingsSettings
from .votes import DEFAULT_QUORUM, DEFAULT_THRESHOLD, VoteRules, check_rules

MEETBOT_FILE = "meetbot.yaml"


@dataclass(frozen=True, slots=True)
class MeetbotConfig:
    votes: Mapping[str, VoteRules] = field(default_factory=dict)

    def rules_for(self, body: str) -> VoteRules:
        return self.votes.get(body) or VoteRules.of()


_RULES = Schema({"quorum": Field(AnyValue(), default=DEFAULT_QUORUM),
                 "threshold": Field(AnyValue(), default=DEFAULT_THRESHOLD)},
                what="a body's vote rules")
_FILE = Schema({"votes": Field(MapOf(_RULES, key=Str(expected="a body id")), default={})},
               what="meetbot.yaml")


def parse_meetbot(files: Sequence[ConfigFile], ctx: SectionContext) -> MeetbotConfig:
    if not files:
        return MeetbotConfig()
    file = files[0]
    data = _FILE.read_file(file, ctx)
    if not data:
        return MeetbotConfig()
    votes: dict[str, VoteRules] = {}
    raw = data.get("votes") or {}
    for body, rules in raw.items():
        where = source_of(raw, body) or source_of(data) or source_of(file.data)
        assert where is not None
        if body not in ctx.bodies:
            ctx.error(where, f"votes: no body {body!r} in the governance config "
                             f"(bodies: {', '.join(sorted(ctx.bodies)) or 'none'})")
            continue
        quorum, threshold = rules["quorum"], rules["threshold"]
        for key, value in (("quorum", quorum), ("threshold", threshold)):
            if not isinstance(value, int | str) or isinstance(value, bool):
                ctx.error(where, f"votes: {body}: {key} must be a number or an expression, "
                                 f"got {describe(value)}")
                break
        else:
            problem = check_rules(quorum, threshold)
            if problem:
                ctx.error(where, f"votes: {body}: {problem}")
            else:
                votes[body] = VoteRules.of(quorum, threshold)
    return MeetbotConfig(votes)


MEETBOT_SECTION = ConfigSection(MEETBOT_FILE, parse_meetbot,
                                description="meeting votes: quorum and threshold per body")


@dataclass(frozen=True, slots=True)
class Options:
    """What a handler needs of the operator's settings, in the units it works in."""

    minutes_url: str = ""
    trust_nicks: bool = False
    orphan_after: dt.timedelta = dt.timedelta(minutes=60)
    start_grace: dt.timedelta = dt.timedelta(minutes=10)
    gerrit_url: str = ""

    @classmethod
    def of(cls, settings: MeetingsSettings) -> Options:
        return cls(minutes_url=settings.minutes_url,
                   trust_nicks=settings.trust_nicks,
                   orphan_after=dt.timedelta(minutes=settings.orphan_minutes),
                   start_grace=dt.timedelta(minutes=settings.start_grace_minutes),
                   gerrit_url=settings.gerrit_url)


def electorates(config: GovernanceConfig) -> dict[str, Electorate]:
    """Every body, with its vote rules applied to its current size."""
    section = config.section("meetings")
    rules = section if isinstance(section, MeetbotConfig) else MeetbotConfig()
    found = {}
    for body in config.bodies.values():
        quorum, threshold = rules.rules_for(body.id).snapshot(body.size)
        found[body.id.lower()] = Electorate(body.id, body.name, tuple(body.members), quorum,
                                            threshold)
    return found


def person_of(config: GovernanceConfig, account: str | None, nick: str,
              trust_nicks: bool) -> Person | None:
    """The config's person for a speaker: by account; by nick only when nicks are trusted."""
    if account:
        return config.person_by_irc_account(account)
    if trust_nicks:
        folded = irc_lower(nick)
        return next((p for p in config.people.values()
                     if p.irc_nick and irc_lower(p.irc_nick) == folded), None)
    return None
