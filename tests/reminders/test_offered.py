"""The answers of the two offers on the example config (etc/governance) are what the code
they replace computed: the meeting policy's own slot lookup (which read the reminders'
section by duck typing) and the reminders digest's own evaluation of governance verdicts.
Both old computations are kept here, verbatim in substance, as the reference."""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from govbot.actions import Say
from govbot.config.loader import load_config
from govbot.config.model import GovernanceConfig
from govbot.offers import MeetingSchedules, PendingChange, PendingVotes, ScheduledMeeting
from govbot.plugin import MemoryState, PluginContext, PluginRegistry
from govbot.plugins.governance.change import ChangeState, format_time
from govbot.plugins.governance.evaluate import evaluate
from govbot.plugins.governance.model import RulesConfig
from govbot.plugins.governance.plugin import GovernancePlugin
from govbot.plugins.governance.verdict import PENDING, Verdict
from govbot.plugins.meetings.plugin import MeetingsPlugin
from govbot.plugins.reminders.config import Digest
from govbot.plugins.reminders.digest import digest_actions, digest_bodies
from govbot.plugins.reminders.plugin import RemindersPlugin, schedules_of
from govbot.plugins.reminders.schedule import Meeting
from govbot.plugins.reminders.settings import RemindersSettings

EXAMPLE = Path(__file__).resolve().parents[2] / "etc" / "governance"
UTC = dt.UTC


@pytest.fixture(scope="module")
def registry() -> PluginRegistry:
    return PluginRegistry([GovernancePlugin(), MeetingsPlugin(), RemindersPlugin()])


@pytest.fixture(scope="module")
def config(registry: PluginRegistry) -> GovernanceConfig:
    result = load_config(EXAMPLE, registry.config_sections())
    assert result.config is not None, result.lines()
    return result.config


# -- meeting schedules ------------------------------------------------------------------
def old_scheduled_slots(meetings: Sequence[Meeting], channel: str, now: dt.datetime,
                        grace: dt.timedelta) -> list[ScheduledMeeting]:
    """plugins/meetings/policy.py's lookup before the offer, on the reminders' objects:
    today and yesterday, the slot's own `dates` for the recurrence and skip dates."""
    wanted = channel.lstrip("#").lower()
    found = []
    for meeting in meetings:
        for slot in meeting.slots:
            if str(slot.irc or "").lstrip("#").lower() != wanted:
                continue
            chair = str(slot.chair or meeting.chair or "")
            for day in (now.date(), now.date() - dt.timedelta(days=1)):
                start = dt.datetime.combine(day, slot.time, UTC)
                end = start + dt.timedelta(minutes=slot.duration or 60)
                if start - grace <= now < end and \
                        day in set(slot.dates(day, day + dt.timedelta(days=1))):
                    found.append(ScheduledMeeting(str(meeting.meeting_id or ""), chair,
                                                  "#" + wanted, start, end))
    return found


def instants() -> list[dt.datetime]:
    """Every 5 minutes around the year's end (skip dates, ISO week 53, first-Tuesday) and
    the first weeks of 2026 (the start dates)."""
    found = []
    for first, days in ((dt.datetime(2026, 12, 20, tzinfo=UTC), 30),
                        (dt.datetime(2026, 1, 1, tzinfo=UTC), 21)):
        found += [first + dt.timedelta(minutes=5 * i) for i in range(days * 24 * 12)]
    return found


def test_meeting_schedules_match_the_policys_old_lookup(
        registry: PluginRegistry, config: GovernanceConfig) -> None:
    schedules = registry.offers[MeetingSchedules]
    assert isinstance(schedules, MeetingSchedules)
    meetings = schedules_of(config).meetings
    channels = sorted({s.irc for m in meetings for s in m.slots if s.irc})
    assert channels == ["#example-infra", "#example-meeting", "#example-tc"]
    grace = dt.timedelta(minutes=10)
    seen = 0
    for now in instants():
        for channel in (*channels, "#EXAMPLE-TC", "example-meeting"):
            new = list(schedules.meetings_at(config, channel, now, early=grace))
            old = old_scheduled_slots(meetings, channel, now, grace)
            assert sorted(new, key=_order) == sorted(old, key=_order), (channel, now)
            seen += len(new)
    assert seen > 400  # the sweep did meet meetings, not only empty slots


def _order(meeting: ScheduledMeeting) -> tuple[dt.datetime, str]:
    return meeting.start, meeting.meeting_id


# -- pending votes ------------------------------------------------------------------------
NOW = dt.datetime(2026, 11, 22, 12, 0, 17, tzinfo=UTC)  # seconds: the rounding is shown
CATEGORIES = ("formal-vote", "charter-change", "code-change", "typo-fix", "goal-update",
              "documentation-change", "election-results", "")


def gerrit_time(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.000000000")


def synthetic_changes(config: GovernanceConfig, count: int = 400, seed: int = 11
                      ) -> list[dict[str, Any]]:
    """Open governance and infra changes with random member votes, some work in
    progress, some merged (as Gerrit's REST answers them)."""
    rng = random.Random(seed)
    people = [p for p in config.people.values() if p.gerrit_account_id]
    changes = []
    for number in range(1, count + 1):
        project = rng.choice(("example/governance", "example/governance",
                              "example/infra-config", "example/compute"))
        created = NOW - dt.timedelta(days=rng.randrange(0, 20), hours=rng.randrange(24),
                                     seconds=rng.randrange(60))
        label = "Rollcall-Vote" if project == "example/governance" else "Code-Review"
        votes = [{"_account_id": p.gerrit_account_id, "username": p.gerrit_username,
                  "value": rng.choice((-1, 0, 1, 1, 2)) if label == "Code-Review"
                  else rng.choice((-1, 0, 1, 1)),
                  "date": gerrit_time(created + dt.timedelta(hours=rng.randrange(48)))}
                 for p in rng.sample(people, rng.randrange(len(people) // 2))]
        owner = rng.choice(people)
        revision = f"{number:040x}"
        category = rng.choice(CATEGORIES)
        changes.append({
            "id": f"x~{number}", "project": project, "branch": "master", "_number": number,
            "subject": f"Change {number}", "status": "MERGED" if number % 17 == 0 else "NEW",
            "work_in_progress": number % 13 == 0,
            "owner": {"_account_id": owner.gerrit_account_id,
                      "username": owner.gerrit_username},
            "created": gerrit_time(created), "updated": gerrit_time(NOW),
            "hashtags": [category] if category else [],
            "labels": {label: {"all": votes}},
            "current_revision": revision,
            "revisions": {revision: {"_number": 1, "created": gerrit_time(created),
                                     "files": {rng.choice(("resolutions/r.rst",
                                                           "reference/guide.rst",
                                                           "tools/check.py",
                                                           "playbooks/site.yaml")): {}}}},
        })
    return changes


class Gerrit:
    """A ChangeReader over fixed ChangeInfos that records its queries."""

    def __init__(self, infos: list[dict[str, Any]]) -> None:
        self.infos = infos
        self.queries: list[str] = []

    async def get_change(self, change: str) -> Mapping[str, Any] | None:
        raise AssertionError("the digest reads changes with one query, not one by one")

    async def query(self, query: str, *, limit: int = 500) -> Sequence[Mapping[str, Any]]:
        self.queries.append(query)
        projects = set(re.findall(r"project:([^\s)]+)", query)) or None
        return [i for i in self.infos if projects is None or i["project"] in projects]


def old_pending(infos: Sequence[Mapping[str, Any]], config: GovernanceConfig,
                rules: RulesConfig, bodies: Sequence[str]
                ) -> list[tuple[ChangeState, str, Verdict, str]]:
    """plugins/reminders/digest.py's `pending_changes` before the offer."""
    found = []
    for info in infos:
        change = ChangeState.from_change_info(info)
        if not change.is_open or change.wip:
            continue
        verdict = evaluate(change, config, rules, NOW)
        if verdict.state != PENDING or not verdict.missing or verdict.rule is None:
            continue
        rule = rules.rule(verdict.rule)
        if rule is None or rule.body is None or rule.body not in bodies:
            continue
        found.append((change, str(info.get("subject") or ""), verdict, rule.body))
    found.sort(key=lambda p: (p[0].project, p[0].number))
    return found


def old_line(change: ChangeState, subject: str, verdict: Verdict, base: str) -> str:
    """The old digest's `change_line`, from the verdict itself."""
    waiting = "; ".join(r.text for r in verdict.reasons if r.status == PENDING)
    earliest = (format_time(verdict.earliest) if verdict.earliest is not None
                else "as soon as the votes are in")
    return (f"- {change.project}~{change.number} \"{subject}\" (rule {verdict.rule}): "
            f"{waiting}; not voted: {', '.join(v.name for v in verdict.missing)}; "
            f"earliest approval: {earliest} {base}/c/{change.project}/+/{change.number}")


async def test_pending_votes_match_the_digests_old_evaluation(
        registry: PluginRegistry, config: GovernanceConfig) -> None:
    pending = registry.offers[PendingVotes]
    assert isinstance(pending, PendingVotes)
    rules = config.section("governance")
    assert isinstance(rules, RulesConfig)
    infos = synthetic_changes(config)
    gerrit = Gerrit(infos)
    ctx = PluginContext("reminders", "e1", config, gerrit, MemoryState(), NOW,
                        offers=registry.offers)
    digest = Digest(key="d", time=dt.time(12))
    bodies = digest_bodies(digest, config)
    assert bodies == ["tc", "infra-council"]
    answer = list(await pending.pending_votes(ctx, bodies))
    assert len(gerrit.queries) == 1  # one paged query, whatever the number of changes
    expected = old_pending(infos, config, rules, bodies)
    assert [(p.key, p.subject, p.rule, p.body) for p in answer] == [
        (f"{c.project}~{c.number}", s, v.rule, b) for c, s, v, b in expected]
    assert [(tuple(m.name for m in p.missing), tuple(m.person for m in p.missing),
             p.earliest) for p in answer] == [
        (tuple(m.name for m in v.missing), tuple(m.person for m in v.missing), v.earliest)
        for _, _, v, _ in expected]
    assert {b for *_, b in expected} == {"tc", "infra-council"}
    assert any(v.earliest is None for _, _, v, _ in expected)
    assert any(v.earliest is not None for _, _, v, _ in expected)

    # ... and the digest renders them, line for line, as the old one did.
    base = "https://review.example.org"
    actions = digest_actions(digest, answer, config, NOW, RemindersSettings(review_url=base + "/"),
                             bodies)
    said = {a.target: a.text.split("\n") for a in actions if isinstance(a, Say)}
    for body in bodies:
        channel = config.bodies[body].channel
        listed = [e for e in expected if e[3] == body]
        assert said[channel] == [
            f"Votes awaited from the {config.bodies[body].name}: {len(listed)} changes",
            *[old_line(c, s, v, base) for c, s, v, _ in listed]]


def test_pending_changes_are_plain_data() -> None:
    change = PendingChange(project="p", number=1, subject="s", body="tc", rule="r",
                           waiting=(), missing=(), earliest=None)
    assert change.key == "p~1" and change.overdue(NOW)
