"""The checks of one candidacy file: path, window, owner, unique, qualifies, statement.

Each check answers ok (True), failed (False) or not checked (None, when an earlier
problem makes it meaningless: the qualification of a candidate whose path names no
team). A candidacy passes when no check failed and every check ran.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from govbot.config.model import GovernanceConfig, Team
from govbot.context import ChangeReader

from .model import TC, Election
from .paths import EMAIL, Filed, ParsedPath, parse_path
from .qualify import Contributions, electorate_groups, team_groups

WHEN = "%Y-%m-%d %H:%M UTC"


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool | None  # None: not checked
    detail: str

    def line(self) -> str:
        mark = {True: "ok", False: "FAILED", None: "not checked"}[self.ok]
        return f"- {self.name}: {mark} — {self.detail}"


@dataclass(frozen=True, slots=True)
class Candidacy:
    path: str
    election: Election | None
    email: str
    team: str  # the team's name, or the TC directory ('' when the path is malformed)
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def failed(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.checks if c.ok is False)


@dataclass(frozen=True, slots=True)
class Owner:
    """The change owner, with every email govbot knows for the account."""

    account_id: int | None
    name: str
    emails: frozenset[str]  # case-folded: Gerrit's preferred one and people.yaml's
    person: str | None  # the people.yaml id

    @classmethod
    def of(cls, info: Mapping[str, Any], config: GovernanceConfig) -> Owner:
        owner = info.get("owner") or {}
        account = owner.get("_account_id")
        email = str(owner.get("email") or "")
        person = config.person_by_gerrit(username=owner.get("username"), email=email or None,
                                         account_id=account if isinstance(account, int)
                                         else None)
        emails = {e.casefold() for e in (email, *(person.emails if person else ())) if e}
        return cls(account if isinstance(account, int) else None,
                   str(owner.get("name") or owner.get("username") or account or "?"),
                   frozenset(emails), person.id if person else None)


def gerrit_time(value: Any) -> dt.datetime | None:
    """Gerrit's 'YYYY-MM-DD hh:mm:ss.fffffffff' (UTC)."""
    try:
        return dt.datetime.strptime(str(value)[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)
    except ValueError:
        return None


@dataclass
class ChangeFacts:
    """What the checks of one change read, gathered once for all its files."""

    key: str
    number: int
    revision: str
    created: dt.datetime | None
    owner: Owner
    others: Sequence[Filed]  # candidacy files of every open or merged change (this one too)


async def check_candidacy(path: str, facts: ChangeFacts, elections: Sequence[Election],
                          config: GovernanceConfig, reader: ChangeReader,
                          contributions: Contributions, now: dt.datetime,
                          siblings: Sequence[str] = ()) -> Candidacy:
    """All checks of the candidacy file `path` of the change in `facts`; `siblings` are
    the change's other candidacy files."""
    parsed = parse_path(path, elections, config.teams)
    election = parsed.election
    checks = [_path(parsed)]
    if election is None:
        checks += [Check(n, None, "the path names no election")
                   for n in ("window", "owner", "unique", "qualifies")]
    else:
        checks.append(_window(facts.created, election))
        checks.append(_owner(parsed, facts.owner, election))
        if parsed.problem:
            checks += [Check(n, None, "the path is malformed") for n in ("unique", "qualifies")]
        else:
            checks.append(_unique(parsed, facts, elections, config, siblings))
            checks.append(await _qualifies(parsed, election, facts.owner, config, reader,
                                           contributions, now))
    checks.append(await _statement(path, facts, reader))
    team = parsed.team.name if parsed.team else parsed.team_dir
    return Candidacy(path, election, parsed.email, team, tuple(checks))


def _path(parsed: ParsedPath) -> Check:
    if parsed.problem:
        return Check("path", False, parsed.problem)
    election = parsed.election
    assert election is not None
    what = "TC candidacy" if election.kind == TC else f"PTL candidacy for team {parsed.team_dir}"
    return Check("path", True, f"{what} in {election.id}, candidate {parsed.email}")


def _window(created: dt.datetime | None, election: Election) -> Check:
    timeline = election.timeline
    window = (f"nominations {timeline.nominations_open:{WHEN}} to "
              f"{timeline.nominations_close:{WHEN}}")
    if created is None:
        return Check("window", False, f"the change's creation time is unknown ({window})")
    inside = timeline.nominating(created)
    return Check("window", inside, f"patch set 1 proposed {created:{WHEN}}, "
                                   f"{'inside' if inside else 'outside'} {window}")


def _owner(parsed: ParsedPath, owner: Owner, election: Election) -> Check:
    if not EMAIL.fullmatch(parsed.email):
        return Check("owner", None, "the file name is not an email address")
    if parsed.candidate in owner.emails:
        return Check("owner", True, f"the change owner {owner.name} is the candidate")
    if owner.person is not None and owner.person in election.officials:
        return Check("owner", True, f"proposed by election official {owner.name}")
    return Check("owner", False, f"the change owner {owner.name} is not the candidate "
                                 f"{parsed.email or '?'} (no email of the account matches) "
                                 "and not an election official")


def _unique(parsed: ParsedPath, facts: ChangeFacts, elections: Sequence[Election],
            config: GovernanceConfig, siblings: Sequence[str]) -> Check:
    assert parsed.election is not None
    clashes: list[str] = []
    for path in siblings:
        other = parse_path(path, elections, config.teams)
        if _same(other, parsed):
            clashes.append(f"{path} (in this change)")
    for filed in facts.others:
        if filed.number == facts.number:
            continue
        other = parse_path(filed.path, elections, config.teams)
        if not _same(other, parsed):
            continue
        if filed.path == parsed.path and filed.status == "MERGED":
            continue  # this change edits the merged candidacy
        state = "merged" if filed.status == "MERGED" else "open"
        clashes.append(f"{filed.path} (change {filed.number}, {state})")
    if clashes:
        return Check("unique", False, f"{parsed.email} has another candidacy in "
                                      f"{parsed.election.id}: {', '.join(sorted(clashes))}")
    return Check("unique", True, f"no other candidacy of {parsed.email} in "
                                 f"{parsed.election.id}")


def _same(one: ParsedPath, other: ParsedPath) -> bool:
    """The same candidate in the same election (emails compared case-folded)."""
    return (one.election is not None and other.election is not None
            and one.election.id == other.election.id and one.candidate == other.candidate)


async def _qualifies(parsed: ParsedPath, election: Election, owner: Owner,
                     config: GovernanceConfig, reader: ChangeReader,
                     contributions: Contributions, now: dt.datetime) -> Check:
    team = parsed.team
    teams: Sequence[Team] = [team] if team is not None else list(config.teams.values())
    period = (f"between {election.qualifying_start:{WHEN}} and "
              f"{election.qualifying_end:{WHEN}}")
    for candidate_team in teams:
        for atc in candidate_team.extra_atcs:
            if atc.email.casefold() == parsed.candidate and atc.valid_at(now):
                until = f", until {atc.expires:%Y-%m-%d}" if atc.expires else ""
                return Check("qualifies", True, f"an extra ATC of team {candidate_team.name}"
                                                f"{until}")
    accounts = _accounts_of(parsed, owner, config)
    groups = (team_groups(election, team) if team is not None
              else electorate_groups(election, config.teams))
    for group in groups:
        found = await contributions.of_group(reader, election, group, now)
        if any(a in found for a in accounts) or any(
                c.email.casefold() == parsed.candidate for c in found.values()):
            where = (f"on a branch matching {group.branch!r}" if group.branch
                     else f"in team {group.team}'s repositories")
            return Check("qualifies", True, f"a merged change {where} {period}")
    where = (f"on a branch matching {election.branch_teams[team.name]!r}"
             if team is not None and team.name in election.branch_teams
             else f"in team {team.name}'s repositories" if team is not None
             else "in any team's repositories")
    return Check("qualifies", False, f"{parsed.email} has no merged change {where} {period}, "
                                     "and is no extra ATC")


def _accounts_of(parsed: ParsedPath, owner: Owner, config: GovernanceConfig) -> set[int]:
    """The Gerrit accounts known to be the candidate's."""
    accounts = {p.gerrit_account_id for p in config.people.values()
                if p.gerrit_account_id is not None
                and parsed.candidate in (e.casefold() for e in p.emails)}
    if owner.account_id is not None and parsed.candidate in owner.emails:
        accounts.add(owner.account_id)
    return accounts


async def _statement(path: str, facts: ChangeFacts, reader: ChangeReader) -> Check:
    content = await reader.file_content(facts.key, facts.revision, path)
    if content is None:
        return Check("statement", False, "the file cannot be read")
    text = content.decode("utf-8", errors="replace").strip()
    if not text:
        return Check("statement", False, "the file is empty: it must hold the statement")
    return Check("statement", True, f"{len(text.splitlines())} line(s)")
